//! A launch's page: one view of the whole simulated network (`ironchain launch` prints
//! its URL). Every node's block tree side by side, blocks coloured by the node that
//! mined them, each node's tip, the running stale count, the partition state and the
//! links' delays, polled from `/api/launch` and `/api/launch/tree/{node}`.
//!
//! The launcher starts it with [`serve`]; it only reads the nodes' actors, with the same
//! typed messages as a node's own explorer. When the run is over, the launcher freezes
//! it ([`LaunchPage::freeze`]) on the final state before the nodes stop, and it goes on
//! serving that, saying the run is over, until the launcher exits.

use super::api::{ApiError, MAX_TREE_BLOCKS, MAX_TREE_DEPTH};
use super::limits::ExplorerLimits;
use super::{AppServer, Explorer};
use crate::launch::plan::LaunchPlan;
use crate::launch::summary::{ForkView, NodeFinal};
use crate::node::chain_actor::{GetBlockTree, GetSummary, GetTree};
use crate::node::NodeHandle;
use actix::Addr;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;

/// What the page shows once the run is over and its nodes are gone: the last overview
/// (with `over` set) and every node's last tree.
#[derive(Debug)]
struct FinalState {
    overview: Value,
    trees: Vec<Value>,
}

/// What the page reads: the plan (names, links, partitions) and the nodes' chain actors
/// while the run goes; its final state after.
#[derive(Clone)]
struct LaunchState {
    plan: Arc<LaunchPlan>,
    chains: Arc<Vec<Addr<crate::node::chain_actor::ChainActor>>>,
    miners: Arc<Vec<Option<String>>>,
    addrs: Arc<Vec<SocketAddr>>,
    epoch: Instant,
    ended: watch::Receiver<Option<Arc<FinalState>>>,
}

/// A running launch page.
pub struct LaunchPage {
    explorer: Explorer,
    state: LaunchState,
    ended: watch::Sender<Option<Arc<FinalState>>>,
}

impl LaunchPage {
    /// The page's address, as a person would type it.
    pub fn url(&self) -> String {
        self.explorer.url()
    }

    /// Reads the run's final state from the nodes, which must still run, and serves it
    /// from now on, so the page outlives them and says that the run is over.
    pub async fn freeze(&self) -> Result<(), ApiError> {
        let mut overview = overview_json(&self.state).await?;
        overview["over"] = json!(true);
        let mut trees = Vec::new();
        for chain in self.state.chains.iter() {
            trees.push(tree_json(chain).await?);
        }
        self.ended
            .send_replace(Some(Arc::new(FinalState { overview, trees })));
        Ok(())
    }

    pub async fn stop(self) {
        self.explorer.stop().await;
    }
}

/// Starts the launch page on `addr` for `nodes`, started from `plan` at `epoch`.
pub fn serve(
    addr: SocketAddr,
    plan: &LaunchPlan,
    nodes: &[NodeHandle],
    epoch: Instant,
) -> Result<LaunchPage, String> {
    let (ended, ended_reader) = watch::channel(None);
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
        ended: ended_reader,
    };
    let server = AppServer {
        addr,
        what: "launch page",
        limits: ExplorerLimits::from_open_files(crate::node::open_files::soft_limit()),
        bans: None,
    };
    let explorer = server.serve(state.clone(), |config, state| {
        config
            .app_data(web::Data::new(state))
            .route("/api/launch", web::get().to(overview))
            .route("/api/launch/tree/{node}", web::get().to(tree))
            .configure(super::page::launch_routes);
    })?;
    Ok(LaunchPage {
        explorer,
        state,
        ended,
    })
}

async fn overview(state: web::Data<LaunchState>) -> Result<HttpResponse, ApiError> {
    let ended = state.ended.borrow().clone();
    let overview = match ended {
        Some(ended) => ended.overview.clone(),
        None => overview_json(&state).await?,
    };
    Ok(HttpResponse::Ok().json(overview))
}

/// The overview while the run goes: every node's tip and stale count, the network's
/// stale count (the union of the trees, as the summary counts it), partitions and links
/// (`cut` while an active partition separates their ends).
async fn overview_json(state: &LaunchState) -> Result<Value, ApiError> {
    let plan = &state.plan;
    let elapsed = state.epoch.elapsed();
    let mut nodes = Vec::new();
    let mut finals = Vec::new();
    for (i, chain) in state.chains.iter().enumerate() {
        let summary = chain.send(GetSummary).await.map_err(ApiError::stopping)?;
        let tree = chain.send(GetBlockTree).await.map_err(ApiError::stopping)?;
        nodes.push(json!({
            "name": plan.nodes[i].name,
            "addr": state.addrs[i].to_string(),
            "miner": state.miners[i],
            "tip_height": summary.tip.height,
            "tip_hash": summary.tip.hash.to_string(),
            "stale": tree.iter().filter(|block| !block.active).count(),
            "mined": summary.mined,
        }));
        finals.push(NodeFinal {
            name: plan.nodes[i].name.clone(),
            listen: state.addrs[i].to_string(),
            tip_height: summary.tip.height,
            tip_hash: summary.tip.hash,
            tip_work: summary.tip.work,
            tree,
        });
    }
    let active = |partition: &crate::launch::plan::PlannedPartition| {
        elapsed >= partition.start && partition.heal.is_none_or(|heal| elapsed < heal)
    };
    let partitions: Vec<_> = plan
        .partitions
        .iter()
        .map(|partition| {
            json!({
                "groups": partition.groups.iter().map(|group| {
                    group.iter().map(|&n| plan.nodes[n].name.clone()).collect::<Vec<_>>()
                }).collect::<Vec<_>>(),
                "start_ms": partition.start.as_millis() as u64,
                "heal_ms": partition.heal.map(|heal| heal.as_millis() as u64),
                "active": active(partition),
            })
        })
        .collect();
    let mut links = Vec::new();
    for (a, b) in &plan.connections {
        let link = plan.link(*a, *b);
        let cut = plan
            .partitions
            .iter()
            .any(|partition| active(partition) && partition.cuts(*a, *b));
        links.push(json!({
            "from": plan.nodes[*a].name,
            "to": plan.nodes[*b].name,
            "delay_ms": link.delay.as_millis() as u64,
            "jitter_ms": link.jitter.as_millis() as u64,
            "cut": cut,
        }));
    }
    Ok(json!({
        "name": plan.name,
        "elapsed_ms": elapsed.as_millis() as u64,
        "over": false,
        "stale_total": ForkView::new(&finals).stale.len(),
        "nodes": nodes,
        "partitions": partitions,
        "links": links,
    }))
}

/// A node's tree, as `/api/tree` lists it.
async fn tree_json(chain: &Addr<crate::node::chain_actor::ChainActor>) -> Result<Value, ApiError> {
    let blocks = chain
        .send(GetTree {
            depth: MAX_TREE_DEPTH,
            top: None,
            limit: MAX_TREE_BLOCKS,
        })
        .await
        .map_err(ApiError::stopping)?
        .blocks;
    Ok(json!({ "blocks": blocks }))
}

async fn tree(
    state: web::Data<LaunchState>,
    path: web::Path<usize>,
) -> Result<HttpResponse, ApiError> {
    let node = *path;
    let chain = state
        .chains
        .get(node)
        .ok_or_else(|| ApiError::not_found(format!("no node {node}")))?;
    let ended = state.ended.borrow().clone();
    let tree = match ended.as_ref().and_then(|ended| ended.trees.get(node)) {
        Some(tree) => tree.clone(),
        None => tree_json(chain).await?,
    };
    Ok(HttpResponse::Ok().json(tree))
}
