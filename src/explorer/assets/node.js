// A node's explorer page: loads the tree and lists from /api, then follows
// /api/events so blocks, reorgs, transactions and peers appear without a reload.
"use strict";

const $ = (id) => document.getElementById(id);
const depth = Number(new URLSearchParams(location.search).get("depth")) || 1000;
const tree = new TreeView($("tree"), null, (b) => { location.hash = `#/block/${b.hash}`; }, $("miner-key"));
let reorgCount = 0;

async function api(path, options) {
  const response = await fetch(`/api${path}`, options);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

async function loadTip() {
  const tip = await api("/tip");
  $("tip-height").textContent = tip.height;
  $("tip-hash").textContent = shortHash(tip.hash);
  $("tip-hash").title = tip.hash;
  $("tip-difficulty").textContent = tip.difficulty_bits;
}

function showIntervals() {
  const best = [...tree.blocks.values()].filter((b) => b.on_best_chain && b.interval_ms != null)
    .sort((a, b) => b.height - a.height).slice(0, 8);
  $("intervals").textContent = best.length
    ? best.map((b) => (b.interval_ms / 1000).toFixed(1) + " s").join(", ") : "none yet";
  $("stale-count").textContent = tree.staleCount();
}

async function loadTree() {
  const answer = await api(`/tree?depth=${depth}`);
  tree.setBlocks(answer.blocks);
  showIntervals();
}

async function loadRecent() {
  const blocks = await api("/blocks?count=12");
  $("recent-blocks").innerHTML = blocks.reverse().map((b) =>
    `<li data-hash="${b.hash}">#${b.height} <a href="#/block/${b.hash}">${shortHash(b.hash)}</a> ` +
    `${b.txs.length} tx · ${isoTime(b.timestamp_ms)}</li>`).join("");
}

async function loadMempool() {
  const pool = await api("/mempool");
  $("mempool-count").textContent = `(${pool.count} txs, ${pool.bytes} bytes)`;
  $("mempool").innerHTML = pool.transactions.map((t) =>
    `<li data-txid="${t.txid}"><a href="#/tx/${t.txid}">${shortHash(t.txid)}</a> ${t.amount} → ${escapeHtml(t.receiver.slice(0, 12))}… fee ${t.fee}</li>`).join("")
    || "<li>empty</li>";
}

async function loadPeers() {
  const peers = await api("/peers");
  $("peers").innerHTML = peers.map((p) =>
    `<li data-addr="${escapeHtml(p.addr)}">${escapeHtml(p.addr)} ${p.inbound ? "inbound" : "outbound"} height ${p.best_height}</li>`).join("")
    || "<li>no peers</li>";
}

function addReorg(event) {
  reorgCount++;
  $("reorg-count").textContent = reorgCount;
  // At the first height after the fork: the branches need not be equally long.
  tree.markReorg({ height: event.fork_height + 1, depth: event.depth });
  const li = document.createElement("li");
  li.className = "reorg-entry";
  li.textContent = `depth ${event.depth}: ${shortHash(event.old_tip)} → ${shortHash(event.new_tip)} at height ${event.height}`;
  $("reorgs").prepend(li);
}

function listen() {
  const source = new EventSource("/api/events");
  source.onopen = () => {
    $("live").textContent = "live";
    // Whatever happened while disconnected: reload the whole view.
    refreshAll();
  };
  source.onerror = () => { $("live").textContent = "reconnecting…"; };
  source.addEventListener("block_connected", (e) => {
    tree.add(JSON.parse(e.data));
    showIntervals();
    loadTip(); loadRecent(); loadMempool();
  });
  source.addEventListener("block_stale", (e) => { tree.add(JSON.parse(e.data)); showIntervals(); });
  source.addEventListener("reorg", (e) => { addReorg(JSON.parse(e.data)); loadTree(); });
  source.addEventListener("tx_accepted", () => loadMempool());
  source.addEventListener("peer_joined", () => loadPeers());
  source.addEventListener("peer_left", () => loadPeers());
}

function refreshAll() {
  return Promise.all([loadTip(), loadTree(), loadRecent(), loadMempool(), loadPeers()])
    .catch((e) => { $("live").textContent = `error: ${e.message}`; });
}

// Lookups: the hash part of the URL says what is shown (#/block/X, #/tx/X, #/address/X).
// The node reads the text (/api/lookup), by the rule the command line uses: the page
// never guesses whether digits are a height or a hash prefix.
$("lookup").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("query").value.trim();
  if (!q) return;
  try {
    const found = await api(`/lookup/${encodeURIComponent(q)}`);
    const target = `#/${found.kind}/${found.id}`;
    if (location.hash === target) route(); else location.hash = target;
  } catch (error) {
    $("detail").innerHTML = `<span class="error" id="lookup-error">${escapeHtml(error.message)}</span>`;
  }
});

const field = (name, value) => `${name.padEnd(14)}${value}\n`;

async function showBlock(id) {
  const b = await api(`/blocks/${encodeURIComponent(id)}`);
  const chain = b.on_best_chain
    ? `<span id="block-chain">active</span>, <span id="block-confirmations">${b.confirmations}</span> confirmation${b.confirmations === 1 ? "" : "s"}`
    : `<span id="block-chain" class="stale-note">stale</span>: on a branch beside the active chain (<span id="block-confirmations">0</span> confirmations)`;
  let html = `<b>block ${b.height}</b>\n` + field("hash", b.hash) + field("chain", chain) +
    field("prev", `<a href="#/block/${b.prev}">${b.prev}</a>`) +
    (b.next ? field("next", `<a id="block-next" href="#/block/${b.next}">${b.next}</a>`)
      : b.on_best_chain ? field("next", "none yet (the tip)") : "") +
    field("time", isoTime(b.timestamp_ms)) + field("difficulty", `${b.difficulty_bits} bits`) +
    field("nonce", b.nonce) + field("merkle root", b.merkle_root) +
    field("reward", b.reward ? `${b.reward.amount} to <a href="#/address/${b.reward.miner}">${b.reward.miner}</a> (<a href="#/tx/${b.reward.txid}">txid</a>)` : "none (genesis)") +
    `${b.txs.length} transaction(s)\n`;
  for (const t of b.txs) html += `  <a href="#/tx/${t.txid}">${t.txid}</a> ${t.amount} fee ${t.fee}\n`;
  $("detail").innerHTML = html;
}

// Base units in a token's display units ("1250" with 2 decimals is "12.50"); exact for
// amounts a JSON number holds exactly (below 2^53).
function displayUnits(amount, decimals) {
  if (!decimals) return String(amount);
  const digits = BigInt(amount).toString().padStart(decimals + 1, "0");
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

// The amount of a coin transfer, a token transfer (in the token's display units, its
// symbol and decimals asked of /api/token) or an issue (the supply it creates).
async function amountFields(tx) {
  if (tx.kind === "issue") {
    return field("issues", `<span id="tx-token">${escapeHtml(tx.symbol)}</span> ${tx.token}`) +
      field("supply", `<span id="tx-amount">${displayUnits(tx.amount, tx.decimals)} ${escapeHtml(tx.symbol)}</span> (${tx.amount} base units, ${tx.decimals} decimals)`);
  }
  if (tx.kind === "token_transfer") {
    const token = await tokenInfo(tx.token);
    if (!token) return field("token", tx.token) + field("amount", `${tx.amount} base units (token not on this node's chain)`);
    return field("token", `<span id="tx-token">${escapeHtml(token.symbol)}</span> ${tx.token}`) +
      field("amount", `<span id="tx-amount">${displayUnits(tx.amount, token.decimals)} ${escapeHtml(token.symbol)}</span> (${tx.amount} base units)`);
  }
  return field("amount", `<span id="tx-amount">${tx.amount}</span>`);
}

// A multisig spend: the policy (m of n, its members) and who cosigned.
function policyFields(tx) {
  if (!tx.policy) return "";
  const p = tx.policy;
  return field("policy", `<span id="tx-policy">${p.threshold} of ${p.members.length}</span> <a href="#/address/${p.address}">${p.address}</a>`) +
    p.members.map((m) => field("  member", `<a href="#/address/${m}">${m}</a>`)).join("") +
    field("signed by", `<span id="tx-signers">${tx.signers.join(", ")}</span>`);
}

async function showTx(id) {
  const t = await api(`/tx/${encodeURIComponent(id)}`);
  const tx = t.transaction;
  let html = `<b>transaction</b> <span id="tx-status">${t.status}</span>\n` + field("txid", t.txid) + field("kind", tx.kind || t.kind);
  if (t.kind !== "reward") {
    html += field("from", `<a href="#/address/${tx.sender}">${tx.sender}</a>`) +
      field("to", `<a href="#/address/${tx.receiver}">${tx.receiver}</a>`) +
      await amountFields(tx) + field("fee", tx.fee) + field("nonce", tx.nonce) +
      (tx.message ? field("message", escapeHtml(tx.message)) : "") + policyFields(tx);
  } else {
    html += field("reward", `${tx.amount} to ${tx.miner}`);
  }
  if (t.status !== "confirmed") { $("detail").innerHTML = html + "not in a block yet: no proof\n"; return; }
  html += field("block", `<a href="#/block/${t.block_hash}">${t.height} ${t.block_hash}</a>`) +
    `merkle proof: leaf ${t.proof.index} of ${t.proof.leaf_count}\n` +
    t.proof.siblings.map((s) => `  sibling     ${s}\n`).join("") +
    `<span id="proof-status">checking in this browser…</span>\n`;
  $("detail").innerHTML = html;
  // The root to reach comes from the block itself, not from the transaction answer.
  const block = await api(`/blocks/${t.block_hash}`);
  const root = await merkleRootFor(t.txid, t.proof);
  const status = $("proof-status");
  const valid = root !== null && root === block.merkle_root;
  status.className = valid ? "valid" : "invalid";
  status.dataset.valid = String(valid);
  // "SHA-256" is one word: no line break after its hyphen.
  status.innerHTML = valid
    ? `proof checked in this browser (WebCrypto <span class="word">SHA-256</span>): root ${root} equals block ${t.height}'s merkle root`
    : `proof does NOT hold: computed ${root || "nothing (malformed proof)"}, block's merkle root ${block.merkle_root}`;
}

// A token's symbol and decimals, asked of /api/token once per token.
const tokens = new Map();
function tokenInfo(id) {
  if (!tokens.has(id)) tokens.set(id, api(`/token/${id}`).catch(() => null));
  return tokens.get(id);
}

// What a transaction moved, as a person reads it: coins as they are, token amounts in
// the token's display units with its symbol.
async function movedAmount(tx) {
  if (tx.kind === "issue") return `${displayUnits(tx.amount, tx.decimals)} ${escapeHtml(tx.symbol)}`;
  if (tx.kind === "token_transfer") {
    const token = await tokenInfo(tx.token);
    return token ? `${displayUnits(tx.amount, token.decimals)} ${escapeHtml(token.symbol)}`
      : `${tx.amount} base units of token ${shortHash(tx.token)}`;
  }
  return `${tx.amount} coins`;
}

async function showAddress(id) {
  const a = await api(`/address/${encodeURIComponent(id)}`);
  let html = `<b>address</b> ${a.address}\n` + field("balance", `${a.balance} coins`) + field("next nonce", a.nonce) +
    a.tokens.map((t) => field("token", `<span class="token-balance">${t.balance} ${escapeHtml(t.symbol)}</span> (token ${t.token_id})`)).join("") +
    `recent transactions (last ${a.recent_blocks_searched} blocks and the mempool):\n`;
  for (const r of a.recent_transactions) {
    const t = r.transaction;
    const what = r.kind === "reward" ? `reward ${r.reward} coins`
      : r.kind === "issue" ? `issued ${await movedAmount(t)}`
      : `${t.sender === a.address ? "sent" : "received"} ${await movedAmount(t)}`;
    html += `  <span class="activity" data-kind="${r.kind}">${r.height == null ? "pending" : "#" + r.height} <a href="#/tx/${r.txid}">${shortHash(r.txid)}</a> ${what}</span>\n`;
  }
  $("detail").innerHTML = html;
}

async function route() {
  const [, kind, id] = location.hash.split("/");
  const show = { block: showBlock, tx: showTx, address: showAddress }[kind];
  if (!show || !id) return;
  try { await show(decodeURIComponent(id)); }
  catch (e) { $("detail").innerHTML = `<span class="error">${escapeHtml(e.message)}</span>`; }
}

window.addEventListener("hashchange", route);
listen();
route();
