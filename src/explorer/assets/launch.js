// A launch's page: polls /api/launch and each node's tree twice a second and draws every
// node's view side by side, blocks coloured by the node that mined them.
"use strict";

const $ = (id) => document.getElementById(id);
const views = [];              // one TreeView per node
let minerNames = new Map();    // miner address -> node name
let nodeHues = new Map();      // node name -> hue, spread evenly around the wheel

const colourOfNode = (name) => `hsl(${nodeHues.get(name) || 0}, 70%, 58%)`;
const colourOf = (block) => block.miner && minerNames.has(block.miner)
  ? colourOfNode(minerNames.get(block.miner)) : "#556070";

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function setUp(overview) {
  $("launch-name").textContent = overview.name;
  minerNames = new Map(overview.nodes.filter((n) => n.miner).map((n) => [n.miner, n.name]));
  nodeHues = new Map(overview.nodes.map((n, i) =>
    [n.name, Math.round(MINER_HUE_FROM + (MINER_HUE_SPAN * i) / overview.nodes.length)]));
  overview.nodes.forEach((node, i) => {
    const box = document.createElement("div");
    box.className = "node-view";
    box.innerHTML = `<h3><span class="swatch" style="background:${colourOfNode(node.name)}"></span>${escapeHtml(node.name)}</h3>`;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", "tree");
    svg.dataset.node = node.name;
    box.appendChild(svg);
    $("views").appendChild(box);
    views[i] = new TreeView(svg, colourOf);
  });
}

// The links, each marked while a partition cuts it.
function showLinks(links) {
  $("links").innerHTML = links.map((l) =>
    `<li class="${l.cut ? "cut" : "up"}">${escapeHtml(l.from)} ${l.cut ? "✕" : "↔"} ${escapeHtml(l.to)}: ` +
    `${l.delay_ms} ms + up to ${l.jitter_ms} ms${l.cut ? " (cut by the partition)" : ""}</li>`).join("")
    || "<li>no links</li>";
}

async function poll() {
  try {
    const overview = await getJson("/api/launch");
    if (!views.length) setUp(overview);
    $("elapsed").textContent = (overview.elapsed_ms / 1000).toFixed(1) + " s";
    $("nodes").innerHTML = overview.nodes.map((n) =>
      `<tr class="node" data-name="${escapeHtml(n.name)}"><td><span class="swatch" style="background:${colourOfNode(n.name)}"></span>${escapeHtml(n.name)}</td>` +
      `<td>${escapeHtml(n.addr)}</td><td class="height">${n.tip_height}</td><td>${shortHash(n.tip_hash)}</td><td>${n.stale}</td><td>${n.mined}</td></tr>`).join("");
    // Counted over the union of the trees (a block every node holds is one block), as
    // the run's summary counts it.
    $("stale-total").textContent = overview.stale_total;
    showLinks(overview.links);
    const active = overview.partitions.filter((p) => p.active);
    $("partition-state").textContent = active.length
      ? "cut: " + active.map((p) => p.groups.map((g) => `{${g.join(", ")}}`).join(" | ")).join("; ")
      : "none (all links up)";
    $("partitions").innerHTML = overview.partitions.map((p) =>
      `<li>${p.groups.map((g) => `{${g.join(", ")}}`).join(" | ")} from ${p.start_ms / 1000} s` +
      `${p.heal_ms != null ? ` to ${p.heal_ms / 1000} s` : ", never healed"}${p.active ? " (now)" : ""}</li>`).join("")
      || "<li>none planned</li>";
    const trees = await Promise.all(overview.nodes.map((_, i) => getJson(`/api/launch/tree/${i}`)));
    trees.forEach((t, i) => views[i].setBlocks(t.blocks));
    $("live").textContent = overview.over
      ? "the run is over: final state, until Ctrl-C" : "live";
    $("live").className = overview.over ? "stat over" : "stat";
    // The final state does not change: no need to ask again.
    if (overview.over) return;
  } catch (e) {
    $("live").textContent = `the launch is unreachable (${e.message})`;
  }
  setTimeout(poll, 500);
}

poll();
