//! The JSON API under `/api`: each handler asks the node's actors with a typed message and
//! answers with a [`crate::view`] shape. Bad input gets a JSON `{"error": reason}` with
//! the fitting status: 400 for what cannot be parsed, 404 for what is not known, 413 for
//! an oversized body, 422 for a transaction the node refuses, 503 while the node stops.

use super::admission::{client_addr, refused, Door};
use super::block_page::{BlockPage, Taken};
use super::client_budget::Hold;
use super::client_door::{self, Forged, MaySubmit};
use super::request_gate::Refusal;
use super::NodeLink;
use crate::chain::id_prefix::IdPrefix;
use crate::consensus::address::Address;
use crate::consensus::hash::BlockHash;
use crate::consensus::hash::{TokenId, TxId};
use crate::consensus::policy::parse_account;
use crate::net::message::BlockRef;
use crate::net::message::TxStatus;
use crate::node::chain_actor::{
    FindBlocks, FindTxs, GetAccount, GetAddressActivity, GetBlock, GetMempool, GetPlacedBlock,
    GetTip, GetToken, GetTree, GetTx,
};
use crate::node::events::Subscribe;
use crate::node::peer_manager::{GetPeers, HostMisbehaved};
use crate::node::tx_admission::{admit_transaction, is_forged, NotAdmitted, SCORE_INVALID_TX};
use crate::view::lookup::{
    block_query, query, the_one, tx_query, BlockQuery, IdKind, Query, TxQuery, Unresolved,
    BLOCK_HASH, BLOCK_HASH_OR_TRANSACTION_ID, TRANSACTION_ID,
};
use crate::view::{
    account_json, block_json, kind_name, peers_json, submit_json, tip_json, token_json,
    transaction_json, tx_file, tx_status_json, TipView,
};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest body `POST /api/tx` reads: a transaction file is well under 2 KiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Most blocks one `/api/blocks` answer lists.
pub const MAX_BLOCKS_PER_PAGE: u64 = 100;
/// Deepest tree `/api/tree` answers (the page shows 10,000 blocks).
pub const MAX_TREE_DEPTH: u64 = 10_000;
/// Most blocks one `/api/tree` answer lists, stale ones included (each is a few hundred
/// bytes of JSON, so an answer stays under 5 MiB whatever side branches were stored);
/// a tree cut short names the rest's page.
pub const MAX_TREE_BLOCKS: usize = 12_000;
/// Most mempool transactions listed (the count and bytes cover all of them).
const MEMPOOL_LISTED: usize = 100;
/// How far back `/api/address` looks for an address's transactions, and how many it lists.
const ACTIVITY_BLOCKS: u64 = 200;
const ACTIVITY_LISTED: usize = 20;

/// An API failure: its status and the reason shown to the caller.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            reason: reason.into(),
        }
    }

    fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason)
    }

    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, reason)
    }

    /// A prefix that names no single id: unknown (404), or ambiguous (400: the caller
    /// must give more digits).
    fn unresolved(unresolved: Unresolved) -> Self {
        match unresolved {
            Unresolved::NoMatch(reason) => Self::not_found(reason),
            Unresolved::Ambiguous(reason) => Self::bad_request(reason),
        }
    }

    /// The node could not read its store.
    fn store(reason: String) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, reason)
    }

    /// The node's actors are gone: it is shutting down.
    pub fn stopping<E>(_: E) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "the node is shutting down")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl actix_web::ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(json!({ "error": self.reason }))
    }
}

type Answer = Result<HttpResponse, ApiError>;

fn ok(value: Value) -> Answer {
    Ok(HttpResponse::Ok().json(value))
}

/// The `/api` routes, with JSON errors for malformed paths and query strings.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            ApiError::bad_request(format!("bad query string: {error}")).into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|error, _| {
                ApiError::bad_request(format!("bad path: {error}")).into()
            }),
        )
        .service(
            web::scope("/api")
                .route("/tip", web::get().to(tip))
                .route("/blocks", web::get().to(blocks))
                .route("/blocks/{block}", web::get().to(block))
                .route("/tx", web::post().to(submit))
                .route("/tx/{txid}", web::get().to(tx))
                .route("/lookup/{query}", web::get().to(lookup))
                .route("/address/{address}", web::get().to(address))
                .route("/token/{token}", web::get().to(token))
                .route("/mempool", web::get().to(mempool))
                .route("/peers", web::get().to(peers))
                .route("/tree", web::get().to(tree))
                .route("/events", web::get().to(events))
                .default_service(web::to(unknown)),
        );
}

async fn unknown(request: HttpRequest) -> Answer {
    Err(ApiError::not_found(format!(
        "no such endpoint: {} {}",
        request.method(),
        request.path()
    )))
}

async fn tip(node: web::Data<NodeLink>) -> Answer {
    let tip = node.chain.send(GetTip).await.map_err(ApiError::stopping)?;
    ok(tip_json(&TipView {
        height: tip.height,
        hash: tip.hash,
        work: tip.work,
        difficulty_bits: tip.difficulty_bits(),
        timestamp_ms: tip.timestamp_ms,
        genesis: node.genesis,
    }))
}

/// How the API names the node in an unresolved prefix's reason (the command line names
/// the address it asked).
const THIS_NODE: &str = "this node";

/// The block hashes starting with `prefix` that the node knows.
async fn blocks_with_prefix(
    node: &NodeLink,
    prefix: &IdPrefix,
) -> Result<Vec<BlockHash>, ApiError> {
    node.chain
        .send(FindBlocks(prefix.clone()))
        .await
        .map_err(ApiError::stopping)?
        .map_err(ApiError::store)
}

/// The transaction ids starting with `prefix` that the node knows.
async fn txs_with_prefix(node: &NodeLink, prefix: &IdPrefix) -> Result<Vec<TxId>, ApiError> {
    node.chain
        .send(FindTxs(prefix.clone()))
        .await
        .map_err(ApiError::stopping)?
        .map_err(ApiError::store)
}

/// A block as a person named it, prefixes resolved as the command line resolves them.
async fn block_ref(node: &NodeLink, text: &str) -> Result<BlockRef, ApiError> {
    match block_query(text).map_err(ApiError::bad_request)? {
        BlockQuery::Whole(reference) => Ok(reference),
        BlockQuery::Prefix(prefix) => {
            let found = blocks_with_prefix(node, &prefix).await?;
            the_one(found, BlockHash::as_bytes, &prefix, BLOCK_HASH, THIS_NODE)
                .map(BlockRef::Hash)
                .map_err(ApiError::unresolved)
        }
    }
}

async fn block(node: web::Data<NodeLink>, path: web::Path<String>) -> Answer {
    let reference = block_ref(&node, &path).await?;
    let found = node
        .chain
        .send(GetPlacedBlock(reference.clone()))
        .await
        .map_err(ApiError::stopping)?;
    match (found, reference) {
        (Some(found), _) => ok(block_json(&found.block, &found.place)),
        (None, BlockRef::Height(height)) => Err(ApiError::not_found(format!(
            "no block at height {height} on the node's chain"
        ))),
        (None, BlockRef::Hash(hash)) => Err(ApiError::not_found(format!("unknown block {hash}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlocksQuery {
    from: Option<u64>,
    count: Option<u64>,
}

/// A place among the requests that read many blocks, held until the answer is built.
async fn heavy(door: &Door, request: &HttpRequest) -> Result<client_door::Permit, Refusal> {
    client_door::admit(&door.clients, client_addr(request).ip(), Hold::Heavy).await
}

/// `count` blocks of the active chain from height `from` upwards (default: the latest),
/// lowest first, within a page's bytes ([`super::block_page`]). A page cut short, or followed by
/// more of the chain, names the next one in a `Link: <…>; rel="next"` header (`rel="prev"`
/// for the latest blocks, which walk down).
async fn blocks(
    node: web::Data<NodeLink>,
    door: web::Data<Door>,
    request: HttpRequest,
    query: web::Query<BlocksQuery>,
) -> Answer {
    let count = query.count.unwrap_or(10);
    if count == 0 || count > MAX_BLOCKS_PER_PAGE {
        return Err(ApiError::bad_request(format!(
            "count must be between 1 and {MAX_BLOCKS_PER_PAGE}"
        )));
    }
    let _heavy = match heavy(&door, &request).await {
        Ok(permit) => permit,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let tip = node.chain.send(GetTip).await.map_err(ApiError::stopping)?;
    let page = BlockPage::plan(query.from, count, tip.height);
    let mut taken = Taken::new(door.limits.page_bytes);
    for &height in page.heights() {
        let Some(found) = node
            .chain
            .send(GetPlacedBlock(BlockRef::Height(height)))
            .await
            .map_err(ApiError::stopping)?
        else {
            // The chain was reorganised to a shorter one since the tip was read.
            break;
        };
        let json = serde_json::to_vec(&block_json(&found.block, &found.place)).unwrap_or_default();
        if !taken.take(height, json) {
            break;
        }
    }
    let (json, next) = page.finish(taken, tip.height);
    let mut response = HttpResponse::Ok();
    response.content_type("application/json");
    if let Some(next) = next {
        let relation = if query.from.is_some() { "next" } else { "prev" };
        response.insert_header(("Link", format!("<{next}>; rel=\"{relation}\"")));
    }
    Ok(response.body(json))
}

async fn tx(node: web::Data<NodeLink>, path: web::Path<String>) -> Answer {
    let txid = match tx_query(&path).map_err(ApiError::bad_request)? {
        TxQuery::Whole(txid) => txid,
        TxQuery::Prefix(prefix) => {
            let found = txs_with_prefix(&node, &prefix).await?;
            the_one(found, TxId::as_bytes, &prefix, TRANSACTION_ID, THIS_NODE)
                .map_err(ApiError::unresolved)?
        }
    };
    let status = node
        .chain
        .send(GetTx(txid))
        .await
        .map_err(ApiError::stopping)?;
    tx_status_json(&txid, &status).map(ok).unwrap_or_else(|| {
        Err(ApiError::not_found(format!(
            "transaction {txid} is not known (neither in the chain nor in the mempool)"
        )))
    })
}

/// A block hash or a transaction id that a prefix matched.
#[derive(Clone, Copy)]
enum Found {
    Block(BlockHash),
    Tx(TxId),
}

impl Found {
    fn bytes(&self) -> &[u8; 32] {
        match self {
            Found::Block(hash) => hash.as_bytes(),
            Found::Tx(txid) => txid.as_bytes(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Found::Block(hash) => json!({ "kind": "block", "id": hash.to_string() }),
            Found::Tx(txid) => json!({ "kind": "tx", "id": txid.to_string() }),
        }
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Block(hash) => hash.fmt(f),
            Found::Tx(txid) => txid.fmt(f),
        }
    }
}

/// `GET /api/lookup/{text}`: what the lookup box's text names, read by the rule of
/// [`crate::view::lookup`]: `{"kind": "block" | "tx" | "address", "id"}` with the whole
/// hash, id or address, so the page never reads the text itself.
async fn lookup(node: web::Data<NodeLink>, path: web::Path<String>) -> Answer {
    let found = match query(&path).map_err(ApiError::bad_request)? {
        Query::Address(address) => return ok(json!({ "kind": "address", "id": address })),
        Query::Height(height) => {
            let block = node
                .chain
                .send(GetBlock(BlockRef::Height(height)))
                .await
                .map_err(ApiError::stopping)?
                .ok_or_else(|| {
                    ApiError::not_found(format!("no block at height {height} on the node's chain"))
                })?;
            Found::Block(block.hash())
        }
        Query::Id(bytes) => {
            let (hash, txid) = (BlockHash::from_bytes(bytes), TxId::from_bytes(bytes));
            let block = node
                .chain
                .send(GetBlock(BlockRef::Hash(hash)))
                .await
                .map_err(ApiError::stopping)?;
            let status = node
                .chain
                .send(GetTx(txid))
                .await
                .map_err(ApiError::stopping)?;
            match (block, status) {
                (Some(_), _) => Found::Block(hash),
                (None, TxStatus::NotFound) => {
                    return Err(ApiError::not_found(format!(
                        "no block or transaction {hash} is known to {THIS_NODE}"
                    )))
                }
                (None, _) => Found::Tx(txid),
            }
        }
        Query::Prefix(prefix) => {
            let mut found: Vec<Found> = blocks_with_prefix(&node, &prefix)
                .await?
                .into_iter()
                .map(Found::Block)
                .collect();
            found.extend(
                txs_with_prefix(&node, &prefix)
                    .await?
                    .into_iter()
                    .map(Found::Tx),
            );
            let kind: IdKind = BLOCK_HASH_OR_TRANSACTION_ID;
            the_one(found, Found::bytes, &prefix, kind, THIS_NODE).map_err(ApiError::unresolved)?
        }
    };
    ok(found.json())
}

async fn token(node: web::Data<NodeLink>, path: web::Path<String>) -> Answer {
    let token: TokenId = path
        .trim()
        .parse()
        .map_err(|e| ApiError::bad_request(format!("{:?} is not a token id: {e}", *path)))?;
    let info = node
        .chain
        .send(GetToken(token))
        .await
        .map_err(ApiError::stopping)?;
    info.map(|info| ok(token_json(&token, &info)))
        .unwrap_or_else(|| {
            Err(ApiError::not_found(format!(
                "token {token} is not known (not issued on the active chain)"
            )))
        })
}

async fn address(node: web::Data<NodeLink>, path: web::Path<String>) -> Answer {
    let shown = path.trim();
    let address: Address = parse_account(shown)
        .map_err(|e| ApiError::bad_request(format!("{:?} is not an address: {e}", *path)))?;
    let info = node
        .chain
        .send(GetAccount(address))
        .await
        .map_err(ApiError::stopping)?;
    let activity = node
        .chain
        .send(GetAddressActivity {
            address,
            blocks: ACTIVITY_BLOCKS,
            limit: ACTIVITY_LISTED,
        })
        .await
        .map_err(ApiError::stopping)?;
    let mut view = account_json(shown, &info.account, info.next_nonce, &info.tokens);
    view["recent_blocks_searched"] = json!(ACTIVITY_BLOCKS);
    view["recent_transactions"] = activity
        .iter()
        .map(|item| {
            json!({
                "txid": item.txid.to_string(),
                "height": item.height,
                "kind": item.tx.as_ref().map_or("reward", |tx| kind_name(tx.kind())),
                "transaction": item.tx.as_ref().map(transaction_json),
                "reward": item.tx.is_none().then(|| item.reward.to_string()),
            })
        })
        .collect();
    ok(view)
}

async fn mempool(node: web::Data<NodeLink>) -> Answer {
    let view = node
        .chain
        .send(GetMempool {
            limit: MEMPOOL_LISTED,
        })
        .await
        .map_err(ApiError::stopping)?;
    ok(json!({
        "count": view.count,
        "bytes": view.bytes,
        "transactions": view.transactions.iter().map(transaction_json).collect::<Vec<_>>(),
    }))
}

async fn peers(node: web::Data<NodeLink>) -> Answer {
    let peers = node
        .peers
        .send(GetPeers)
        .await
        .map_err(ApiError::stopping)?;
    ok(peers_json(&peers))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeQuery {
    depth: Option<u64>,
    /// The highest height listed (default: the tip's).
    top: Option<u64>,
}

/// The block tree from `top` down `depth` heights, at most [`MAX_TREE_BLOCKS`] blocks;
/// `next` is the path of the rest when it was cut.
async fn tree(
    node: web::Data<NodeLink>,
    door: web::Data<Door>,
    request: HttpRequest,
    query: web::Query<TreeQuery>,
) -> Answer {
    let depth = query.depth.unwrap_or(100);
    if depth > MAX_TREE_DEPTH {
        return Err(ApiError::bad_request(format!(
            "depth must be at most {MAX_TREE_DEPTH}"
        )));
    }
    let _heavy = match heavy(&door, &request).await {
        Ok(permit) => permit,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    let tip = node.chain.send(GetTip).await.map_err(ApiError::stopping)?;
    let top = query.top.unwrap_or(tip.height).min(tip.height);
    let slice = node
        .chain
        .send(GetTree {
            depth,
            top: Some(top),
            limit: MAX_TREE_BLOCKS,
        })
        .await
        .map_err(ApiError::stopping)?;
    let lowest = top.saturating_sub(depth);
    let next = slice
        .cut_at
        .map(|cut| format!("/api/tree?depth={}&top={cut}", cut - lowest));
    ok(json!({
        "tip": tip.hash.to_string(),
        "height": tip.height,
        "blocks": slice.blocks,
        "next": next,
    }))
}

/// Reads a request body, refusing it once it passes [`MAX_BODY_BYTES`] (whatever its
/// `Content-Length` claims).
async fn read_capped(mut payload: web::Payload) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// `POST /api/tx`: a transaction file's JSON, as `send --save-tx` writes it. A forged
/// signature is scored against the sender's address as over the client protocol, and
/// its connection closed; an address that spent its budget of forged ones (the local
/// host, which is never banned) is refused before any signature is checked.
async fn submit(
    node: web::Data<NodeLink>,
    door: web::Data<Door>,
    request: HttpRequest,
    payload: web::Payload,
) -> Answer {
    let remote = client_addr(&request);
    if let Err(refusal) = door
        .clients
        .send(MaySubmit(remote.ip()))
        .await
        .map_err(ApiError::stopping)?
    {
        return Ok(refused(&refusal));
    }
    let body = read_capped(payload).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    let tx = tx_file::parse(text).map_err(ApiError::bad_request)?;
    let txid = tx.id();
    match admit_transaction(&node.chain, &node.verifier, tx, None).await {
        Ok(_) => ok(submit_json(&txid, None)),
        Err(NotAdmitted::Refused(reason)) => {
            let mut answer = HttpResponse::UnprocessableEntity();
            if is_forged(&reason) {
                door.clients.do_send(Forged(remote.ip()));
                node.peers.do_send(HostMisbehaved {
                    ip: remote.ip(),
                    remote: format!("HTTP client {remote}"),
                    score: SCORE_INVALID_TX,
                    reason: format!("invalid transaction: {reason}"),
                });
                // Disconnected, as over the client protocol (banned too, once its score
                // says so, unless it is the local host).
                answer.force_close();
            }
            Ok(answer.json(submit_json(&txid, Some(&reason.to_string()))))
        }
        Err(NotAdmitted::NodeStopping) => Err(ApiError::stopping(())),
    }
}

/// `GET /api/events`: Server-Sent Events, one per [`crate::node::events::LiveEvent`],
/// named by its `type`.
/// Each stream holds a place in its client's budget until its socket closes.
async fn events(node: web::Data<NodeLink>, door: web::Data<Door>, request: HttpRequest) -> Answer {
    let permit =
        match client_door::admit(&door.clients, client_addr(&request).ip(), Hold::Stream).await {
            Ok(permit) => permit,
            Err(refusal) => return Ok(refused(&refusal)),
        };
    let receiver = node
        .events
        .send(Subscribe)
        .await
        .map_err(ApiError::stopping)?;
    // A comment first, so the client knows at once that the stream is open.
    let opening = futures::stream::once(async { Ok(Bytes::from_static(b": connected\n\n")) });
    let stream = opening.chain(receiver.map(move |event| {
        let _held = &permit;
        let data = serde_json::to_value(&event).unwrap_or(Value::Null);
        let name = data["type"].as_str().unwrap_or("message").to_string();
        Ok::<_, actix_web::Error>(Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
    }));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(stream))
}
