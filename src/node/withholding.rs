//! The chain actor's side of the miner strategies of issue 16 that withhold blocks: which
//! strategy runs ([`MinerStrategy`]), and, for the double-spender, the public blocks it
//! holds aside while it races (connecting them would move its miner onto the public
//! chain) together with the public chain's height and work, which it claims to its own
//! peer manager so that the node does not download the chain it races against. The
//! decisions themselves are in `policy::selfish` and `policy::double_spend`.

use super::policy::double_spend::{DoubleSpender, Phase};
use super::policy::private_branch::Action;
use super::policy::selfish::SelfishMiner;
use super::PeerId;
use crate::chain::{Chain, TxLookup};
use crate::consensus::block::Block;
use crate::consensus::hash::BlockHash;
use crate::consensus::target::Work;
use crate::consensus::transaction::Transaction;
use std::collections::HashMap;

/// What a mining node does with the blocks it finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MinerStrategy {
    /// Relays each block at once.
    #[default]
    Honest,
    /// Eyal & Sirer's selfish mining (`policy::selfish`).
    Selfish,
    /// The whitepaper's double-spend race against a merchant who waits `confirmations`
    /// blocks (`policy::double_spend`).
    DoubleSpend { confirmations: u64 },
}

/// A withholding strategy's state.
#[derive(Debug)]
pub enum Withholding {
    Selfish(SelfishMiner),
    DoubleSpend(Box<Race>),
}

/// A double-spender's race.
#[derive(Debug)]
pub struct Race {
    spender: DoubleSpender,
    /// Public blocks held aside, in arrival order, with the peer that sent each.
    held: Vec<(Block, PeerId)>,
    /// Cumulative work of the held blocks whose ancestry is known.
    held_work: HashMap<BlockHash, Work>,
    /// Height and work of the public chain's tip.
    public: (u64, Work),
}

impl Withholding {
    /// The state of `strategy` on `chain`; `None` for an honest miner.
    pub fn new(strategy: MinerStrategy, chain: &Chain) -> Option<Withholding> {
        let tip = chain.tip();
        match strategy {
            MinerStrategy::Honest => None,
            MinerStrategy::Selfish => Some(Withholding::Selfish(SelfishMiner::new(tip.height))),
            MinerStrategy::DoubleSpend { confirmations } => {
                Some(Withholding::DoubleSpend(Box::new(Race {
                    spender: DoubleSpender::new(tip.height, confirmations),
                    held: Vec::new(),
                    held_work: HashMap::new(),
                    public: (tip.height, tip.work),
                })))
            }
        }
    }

    /// The height peers may see of our chain.
    pub fn shown_height(&self) -> u64 {
        match self {
            Withholding::Selfish(selfish) => selfish.shown_height(),
            Withholding::DoubleSpend(race) => race.spender.shown_height(),
        }
    }

    /// A double-spender still racing (it holds public blocks aside).
    pub fn racing(&self) -> bool {
        matches!(self, Withholding::DoubleSpend(race) if race.spender.phase() == Phase::Racing)
    }

    /// A double-spender whose race is decided: from now on an honest node.
    pub fn race_over(&self) -> bool {
        matches!(self, Withholding::DoubleSpend(race) if race.spender.phase() != Phase::Racing)
    }

    /// Our miner's block `hash` at `height` became our tip.
    pub fn on_mined(&mut self, height: u64, hash: BlockHash) -> Action {
        match self {
            Withholding::Selfish(selfish) => selfish.on_mined(height, hash),
            Withholding::DoubleSpend(race) => race.spender.on_mined(height, hash),
        }
    }

    /// Others' blocks reached our chain, the highest at `height` (a double-spender sees
    /// the public chain through [`Withholding::hold`] instead).
    pub fn on_others_block(&mut self, height: u64) -> Action {
        match self {
            Withholding::Selfish(selfish) => selfish.on_others_block(height),
            Withholding::DoubleSpend(_) => Action::Withhold,
        }
    }

    /// While racing: keeps a public block from `peer` aside (not connected) and says what
    /// it changes. Known and already held blocks change nothing.
    pub fn hold(&mut self, chain: &Chain, block: Block, peer: PeerId) -> Action {
        let Withholding::DoubleSpend(race) = self else {
            return Action::Withhold;
        };
        let hash = block.hash();
        if chain.index().contains(&hash) || race.held_work.contains_key(&hash) {
            return Action::Withhold;
        }
        let parent_work = chain
            .index()
            .get(&block.header.prev)
            .map(|parent| parent.work)
            .or_else(|| race.held_work.get(&block.header.prev).copied());
        let own_work = block.header.target.to_target().map(|target| target.work());
        if let (Some(parent), Ok(own)) = (parent_work, own_work) {
            if let Some(work) = parent.checked_add(own) {
                race.held_work.insert(hash, work);
                if work > race.public.1 {
                    race.public = (block.header.height, work);
                }
            }
        }
        let carries_payment = block.txs.iter().any(|tx| conflicts_with_ours(chain, tx));
        let height = block.header.height;
        race.held.push((block, peer));
        race.spender.on_public_block(height, carries_payment)
    }

    /// What we tell our own peer manager our tip is: while racing, at least the public
    /// chain's, so that it does not download the chain we race against.
    pub fn claimed_tip(&self, ours: (u64, Work)) -> (u64, Work) {
        match self {
            Withholding::DoubleSpend(race) if self.racing() => {
                (ours.0.max(race.public.0), ours.1.max(race.public.1))
            }
            _ => ours,
        }
    }

    /// The public blocks held aside, to connect now that the race is over.
    pub fn take_held(&mut self) -> Vec<(Block, PeerId)> {
        match self {
            Withholding::DoubleSpend(race) => std::mem::take(&mut race.held),
            Withholding::Selfish(_) => Vec::new(),
        }
    }
}

/// Whether `tx` spends a nonce that our own chain (the private branch) or mempool spends
/// with another transaction: the merchant's payment, for a double-spender.
fn conflicts_with_ours(chain: &Chain, tx: &Transaction) -> bool {
    let id = tx.id();
    if chain.state().account(&tx.sender).nonce > tx.nonce {
        return !matches!(chain.transaction(&id), Ok(Some(TxLookup::InBlock { .. })));
    }
    chain
        .mempool()
        .transactions()
        .any(|ours| ours.sender == tx.sender && ours.nonce == tx.nonce && ours.id() != id)
}
