//! A launch's page: one view of the whole simulated network (`ironchain launch` prints
//! its URL). Every node's block tree side by side, blocks coloured by the node that
//! mined them, each node's tip, the running stale count, the partition state and the
//! links' delays, polled from `/api/launch` and `/api/launch/tree/{node}`.
//!
//! The launcher starts it with [`serve`]; it only reads the nodes' actors, with the same
//! typed messages as a node's own explorer.

use super::api::{ApiError, MAX_TREE_DEPTH};
use super::{serve_app, Explorer};
use crate::launch::plan::LaunchPlan;
use crate::node::chain_actor::{GetSummary, GetTree};
use crate::node::NodeHandle;
use actix::Addr;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

/// What the page reads: the plan (names, links, partitions) and the nodes' chain actors.
#[derive(Clone)]
struct LaunchState {
    plan: Arc<LaunchPlan>,
    chains: Arc<Vec<Addr<crate::node::chain_actor::ChainActor>>>,
    miners: Arc<Vec<Option<String>>>,
    addrs: Arc<Vec<SocketAddr>>,
    epoch: Instant,
}

/// Starts the launch page on `addr` for `nodes`, started from `plan` at `epoch`.
pub fn serve(
    addr: SocketAddr,
    plan: &LaunchPlan,
    nodes: &[NodeHandle],
    epoch: Instant,
) -> Result<Explorer, String> {
    let state = LaunchState {
        plan: Arc::new(plan.clone()),
        chains: Arc::new(nodes.iter().map(|node| node.chain.clone()).collect()),
        miners: Arc::new(
            nodes
                .iter()
                .map(|node| node.miner_address.map(|a| a.to_string()))
                .collect(),
        ),
        addrs: Arc::new(nodes.iter().map(|node| node.listen_addr).collect()),
        epoch,
    };
    serve_app(addr, state, "launch page", |config, state| {
        config
            .app_data(web::Data::new(state))
            .route("/api/launch", web::get().to(overview))
            .route("/api/launch/tree/{node}", web::get().to(tree))
            .configure(super::page::launch_routes);
    })
}

async fn overview(state: web::Data<LaunchState>) -> Result<HttpResponse, ApiError> {
    let plan = &state.plan;
    let elapsed = state.epoch.elapsed();
    let mut nodes = Vec::new();
    for (i, chain) in state.chains.iter().enumerate() {
        let summary = chain.send(GetSummary).await.map_err(ApiError::stopping)?;
        let tree = chain
            .send(GetTree {
                depth: MAX_TREE_DEPTH,
            })
            .await
            .map_err(ApiError::stopping)?;
        nodes.push(json!({
            "name": plan.nodes[i].name,
            "addr": state.addrs[i].to_string(),
            "miner": state.miners[i],
            "tip_height": summary.tip.height,
            "tip_hash": summary.tip.hash.to_string(),
            "stale": tree.iter().filter(|block| !block.on_best_chain).count(),
            "mined": summary.mined,
        }));
    }
    let partitions: Vec<_> = plan
        .partitions
        .iter()
        .map(|partition| {
            let active =
                elapsed >= partition.start && partition.heal.is_none_or(|heal| elapsed < heal);
            json!({
                "groups": partition.groups.iter().map(|group| {
                    group.iter().map(|&n| plan.nodes[n].name.clone()).collect::<Vec<_>>()
                }).collect::<Vec<_>>(),
                "start_ms": partition.start.as_millis() as u64,
                "heal_ms": partition.heal.map(|heal| heal.as_millis() as u64),
                "active": active,
            })
        })
        .collect();
    let mut links = Vec::new();
    for (a, b) in &plan.connections {
        let link = plan.link(*a, *b);
        links.push(json!({
            "from": plan.nodes[*a].name,
            "to": plan.nodes[*b].name,
            "delay_ms": link.delay.as_millis() as u64,
            "jitter_ms": link.jitter.as_millis() as u64,
        }));
    }
    Ok(HttpResponse::Ok().json(json!({
        "name": plan.name,
        "elapsed_ms": elapsed.as_millis() as u64,
        "nodes": nodes,
        "partitions": partitions,
        "links": links,
    })))
}

async fn tree(
    state: web::Data<LaunchState>,
    path: web::Path<usize>,
) -> Result<HttpResponse, ApiError> {
    let chain = state
        .chains
        .get(*path)
        .ok_or_else(|| ApiError::not_found(format!("no node {}", *path)))?;
    let blocks = chain
        .send(GetTree {
            depth: MAX_TREE_DEPTH,
        })
        .await
        .map_err(ApiError::stopping)?;
    Ok(HttpResponse::Ok().json(json!({ "blocks": blocks })))
}
