// Draws a block tree as SVG: the best chain on the first row, stale branches on rows
// beside it, reorgs marked with a red line. Only the heights on screen are drawn, so a
// tree of 10,000 blocks costs what its visible part costs. Shared by the node page and
// the launch page (one TreeView per node there).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const COLUMN = 30;   // pixels per height
const ROW = 34;      // pixels per lane
const BOX = 18;      // block square size
const KEY_MINERS = 8; // miners the colour key lists

// Miner hues stay clear of the orange of the stale outline and the red of the reorg
// mark (hues from 325° round through 0° to 90°): a fill never reads as either.
const MINER_HUE_FROM = 90;
const MINER_HUE_SPAN = 235;

// A stable colour for a miner address (or a node name).
function minerColour(miner) {
  if (!miner) return "#556070";
  let h = 0;
  for (const c of miner) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${MINER_HUE_FROM + (h % MINER_HUE_SPAN)}, 65%, 55%)`;
}

class TreeView {
  // `svg`: the <svg> element; `colourOf(block)`: fill colour; `onSelect(block)`: click;
  // `key`: an element to list the miners on screen in, with their colours.
  constructor(svg, colourOf, onSelect, key) {
    this.svg = svg;
    this.key = key || null;
    this.colourOf = colourOf || ((b) => minerColour(b.miner));
    this.onSelect = onSelect || (() => {});
    this.blocks = new Map();       // hash -> block
    this.byHeight = new Map();     // height -> [hash]
    this.reorgs = [];              // {height, depth}
    this.maxHeight = 0;
    this.follow = true;            // keep the tip in view
    this.rightHeight = 0;          // the height at the right edge when not following
    this.layoutDirty = true;
    this.pending = false;
    this.installPanning();
  }

  installPanning() {
    let dragX = null, dragHeight = 0;
    this.svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.scrollTo(this.rightEdge() + Math.sign(e.deltaY || e.deltaX) * 5);
    }, { passive: false });
    this.svg.addEventListener("pointerdown", (e) => { dragX = e.clientX; dragHeight = this.rightEdge(); });
    window.addEventListener("pointerup", () => { dragX = null; });
    this.svg.addEventListener("pointermove", (e) => {
      if (dragX === null) return;
      this.scrollTo(dragHeight - Math.round((e.clientX - dragX) / COLUMN));
    });
    this.svg.addEventListener("dblclick", () => { this.follow = true; this.schedule(); });
  }

  scrollTo(height) {
    this.rightHeight = Math.max(0, Math.min(this.maxHeight, height));
    this.follow = this.rightHeight >= this.maxHeight;
    this.schedule();
  }

  rightEdge() { return this.follow ? this.maxHeight : this.rightHeight; }

  clear() {
    this.blocks.clear();
    this.byHeight.clear();
    this.maxHeight = 0;
    this.layoutDirty = true;
  }

  // Adds or updates a block ({hash, parent, height, miner, on_best_chain, ...}).
  add(block) {
    const known = this.blocks.get(block.hash);
    if (known) {
      Object.assign(known, block);
    } else {
      this.blocks.set(block.hash, Object.assign({}, block));
      if (!this.byHeight.has(block.height)) this.byHeight.set(block.height, []);
      this.byHeight.get(block.height).push(block.hash);
      this.maxHeight = Math.max(this.maxHeight, block.height);
    }
    this.layoutDirty = true;
    this.schedule();
  }

  // Replaces the whole tree (after a reorg the best chain's members change).
  setBlocks(blocks) {
    this.clear();
    for (const b of blocks) this.add(b);
  }

  markReorg(reorg) {
    this.reorgs.push(reorg);
    this.schedule();
  }

  staleCount() {
    let n = 0;
    for (const b of this.blocks.values()) if (!b.on_best_chain) n++;
    return n;
  }

  // Lane 0 is the best chain; a stale block continues its parent's lane when it can,
  // else takes the lowest lane free at its height.
  layout() {
    if (!this.layoutDirty) return;
    const heights = [...this.byHeight.keys()].sort((a, b) => a - b);
    const laneEnd = [Infinity];      // last height used, per lane (lane 0 is reserved)
    for (const h of heights) {
      for (const hash of this.byHeight.get(h)) {
        const b = this.blocks.get(hash);
        if (b.on_best_chain) { b.lane = 0; continue; }
        const parent = this.blocks.get(b.parent);
        let lane = parent && parent.lane > 0 && laneEnd[parent.lane] < h ? parent.lane : -1;
        if (lane < 0) {
          lane = laneEnd.findIndex((end, i) => i > 0 && end < h);
          if (lane < 0) { laneEnd.push(-1); lane = laneEnd.length - 1; }
        }
        laneEnd[lane] = h;
        b.lane = lane;
      }
    }
    this.layoutDirty = false;
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.render(); });
  }

  render() {
    this.layout();
    const width = this.svg.clientWidth || 800;
    const columns = Math.max(1, Math.floor((width - 20) / COLUMN));
    const right = this.rightEdge();
    const left = Math.max(0, right - columns + 1);
    const x = (h) => 10 + (h - left) * COLUMN;
    const y = (lane) => 12 + lane * ROW;
    const parts = [];
    const nodes = [];
    let lanes = 1;
    for (let h = left; h <= right; h++) {
      for (const hash of this.byHeight.get(h) || []) {
        const b = this.blocks.get(hash);
        lanes = Math.max(lanes, b.lane + 1);
        const parent = this.blocks.get(b.parent);
        if (parent && parent.height >= left) {
          parts.push(`<line class="link" x1="${x(parent.height) + BOX}" y1="${y(parent.lane) + BOX / 2}" x2="${x(h)}" y2="${y(b.lane) + BOX / 2}"/>`);
        }
        nodes.push(b);
      }
    }
    for (const b of nodes) {
      const cls = b.on_best_chain ? "best" : "stale";
      parts.push(`<g class="block ${cls}" data-hash="${b.hash}" data-height="${b.height}">` +
        `<title>height ${b.height} ${b.hash}\nminer ${b.miner || "none"}${b.interval_ms != null ? `\ninterval ${(b.interval_ms / 1000).toFixed(1)} s` : ""}</title>` +
        `<rect x="${x(b.height)}" y="${y(b.lane)}" width="${BOX}" height="${BOX}" rx="3" fill="${this.colourOf(b)}"/>` +
        (b.height % 5 === 0 && b.on_best_chain ? `<text x="${x(b.height)}" y="${y(b.lane) + BOX + 10}">${b.height}</text>` : "") +
        `</g>`);
    }
    for (const r of this.reorgs) {
      if (r.height < left || r.height > right) continue;
      const rx = x(r.height) - 5;
      parts.push(`<g class="reorg" data-height="${r.height}"><line class="reorg-mark" x1="${rx}" y1="2" x2="${rx}" y2="${y(lanes) + 4}"/>` +
        `<text class="reorg-label" x="${rx + 2}" y="${y(lanes) + 14}">reorg ${r.depth}</text></g>`);
    }
    this.svg.style.height = `${Math.max(90, y(lanes) + 24)}px`;
    this.svg.innerHTML = parts.join("");
    this.svg.dataset.drawn = String(nodes.length);
    this.svg.dataset.stale = String(this.staleCount());
    for (const g of this.svg.querySelectorAll("g.block")) {
      g.addEventListener("click", () => this.onSelect(this.blocks.get(g.dataset.hash)));
    }
    this.renderKey(nodes);
  }

  // The key to the fill colours: the miners of the blocks on screen, most blocks first.
  renderKey(nodes) {
    if (!this.key) return;
    const counts = new Map();
    for (const b of nodes) if (b.miner) counts.set(b.miner, (counts.get(b.miner) || 0) + 1);
    const miners = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const shown = miners.slice(0, KEY_MINERS).map(([miner, blocks]) =>
      `<span class="miner" data-miner="${escapeHtml(miner)}"><span class="swatch" style="background:${this.colourOf({ miner })}"></span>` +
      `<a href="#/address/${escapeHtml(miner)}" title="${escapeHtml(miner)}">${escapeHtml(miner.slice(0, 10))}…</a> ${blocks}</span>`);
    if (miners.length > KEY_MINERS) shown.push(`and ${miners.length - KEY_MINERS} more`);
    this.key.innerHTML = shown.join(" ") || "none on screen";
  }
}

// The merkle rules of src/consensus/merkle.rs, checked with WebCrypto: inner nodes are
// SHA-256(0x01 || left || right); an odd node at the end of a level is promoted as it is.
async function merkleRootFor(leafHex, proof) {
  if (proof.index >= proof.leaf_count) return null;
  let hash = hexToBytes(leafHex);
  let position = proof.index, width = proof.leaf_count, next = 0;
  const combine = async (left, right) => {
    const data = new Uint8Array(65);
    data[0] = 1; data.set(left, 1); data.set(right, 33);
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  };
  while (width > 1) {
    if (position % 2 === 1) {
      if (next >= proof.siblings.length) return null;
      hash = await combine(hexToBytes(proof.siblings[next++]), hash);
    } else if (position + 1 < width) {
      if (next >= proof.siblings.length) return null;
      hash = await combine(hash, hexToBytes(proof.siblings[next++]));
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  if (next !== proof.siblings.length) return null;
  return bytesToHex(hash);
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The README's short form of a hash: its leading zeros and 8 more digits.
function shortHash(hex) {
  if (!hex) return "";
  const zeros = hex.length - hex.replace(/^0+/, "").length;
  return hex.slice(0, Math.min(hex.length, zeros + 8));
}

// A time as the rest of ironchain writes it: ISO 8601, UTC, to the second.
function isoTime(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
