//! Property test of per-token supply conservation (issue 15): random sequences of valid
//! token issues, token transfers and native transfers, submitted to the mempool and mined
//! (from block templates or built directly), are all accepted; after every block each
//! token's holdings add up to exactly its issued supply, every (account, token) balance
//! equals a plain model kept by the test, and the native supply is exactly the genesis
//! allocations plus `block_reward` × height. Balances are u64, so "never negative" means
//! no rule ever had to refuse or wrap: every planned transaction is accepted.

mod common;

use ironchain::chain::BlockOutcome;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::hash::TokenId;
use ironchain::consensus::token::token_id;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address, key};
use proptest::prelude::*;
use std::collections::BTreeMap;

const ACCOUNTS: u64 = 4;
const MINER: u64 = 9;
const FUNDS: u64 = 10_000;
const FEE: u64 = 1;

#[derive(Clone, Debug)]
enum Op {
    Native {
        from: u64,
        to: u64,
        percent: u64,
    },
    Issue {
        from: u64,
        supply: u64,
    },
    /// Sends `percent` of what `from` can spend of the `pick`-th token it holds.
    Token {
        from: u64,
        to: u64,
        pick: usize,
        percent: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let account = 1..=ACCOUNTS;
    prop_oneof![
        (account.clone(), 1..=ACCOUNTS, 0..=100u64).prop_map(|(from, to, percent)| Op::Native {
            from,
            to,
            percent
        }),
        (account.clone(), prop_oneof![1..1_000u64, Just(u64::MAX)])
            .prop_map(|(from, supply)| Op::Issue { from, supply }),
        (account, 1..=ACCOUNTS, 0..4usize, 0..=100u64).prop_map(|(from, to, pick, percent)| {
            Op::Token {
                from,
                to,
                pick,
                percent,
            }
        }),
    ]
}

/// What the rules say every balance should be.
#[derive(Default, Clone)]
struct Model {
    native: BTreeMap<u64, (u64, u64)>,
    tokens: BTreeMap<(u64, TokenId), u64>,
    supply: BTreeMap<TokenId, u64>,
}

impl Model {
    fn native(&self, n: u64) -> (u64, u64) {
        self.native.get(&n).copied().unwrap_or((0, 0))
    }

    fn token(&self, n: u64, token: &TokenId) -> u64 {
        self.tokens.get(&(n, *token)).copied().unwrap_or(0)
    }

    fn add_token(&mut self, n: u64, token: TokenId, delta: i128) {
        let balance = i128::from(self.token(n, &token)) + delta;
        assert!(balance >= 0, "model went negative");
        self.tokens.insert((n, token), balance as u64);
    }
}

fn run(blocks: Vec<(bool, Vec<Op>)>) -> Result<(), TestCaseError> {
    let allocations: Vec<_> = (1..=ACCOUNTS).map(|n| (address(n), FUNDS)).collect();
    let params = testkit::params(&allocations);
    let reward = params.block_reward.get();
    let (_dir, mut chain) = common::chain::open_chain(params);
    let genesis = chain.genesis_hash();
    let mut model = Model::default();
    for n in 1..=ACCOUNTS {
        model.native.insert(n, (FUNDS, 0));
    }

    for (height, (from_template, ops)) in (1u64..).zip(blocks) {
        // The model after this block's transactions; spendable amounts are judged as the
        // mempool does: from the chain's balances less this block's earlier spends (and
        // a sender's own pending issue), never from tokens received in the same block.
        let start = model.clone();
        let mut spent_native: BTreeMap<u64, u64> = BTreeMap::new();
        let mut spent_token: BTreeMap<(u64, TokenId), u64> = BTreeMap::new();
        let mut issued_here: BTreeMap<(u64, TokenId), u64> = BTreeMap::new();
        let mut sent: BTreeMap<u64, u64> = BTreeMap::new();
        let mut txs: Vec<Transaction> = Vec::new();
        for op in ops {
            let from = match op {
                Op::Native { from, .. } | Op::Issue { from, .. } | Op::Token { from, .. } => from,
            };
            let (balance, nonce) = start.native(from);
            let spendable = balance - spent_native.get(&from).copied().unwrap_or(0);
            if spendable < FEE {
                continue;
            }
            let nonce = nonce + sent.get(&from).copied().unwrap_or(0);
            let tx = match op {
                Op::Native { to, percent, .. } => {
                    let amount = (spendable - FEE) * percent / 100;
                    if amount == 0 {
                        continue; // the mempool's relay policy refuses a transfer of nothing
                    }
                    *spent_native.entry(from).or_default() += amount;
                    let (b, n) = model.native(to);
                    model.native.insert(to, (b + amount, n));
                    let (b, n) = model.native(from);
                    model.native.insert(from, (b - amount, n));
                    testkit::transfer(&key(from), address(to), amount, FEE, nonce, &genesis)
                }
                Op::Issue { supply, .. } => {
                    let token = token_id(&address(from), nonce);
                    issued_here.insert((from, token), supply);
                    model.supply.insert(token, supply);
                    model.add_token(from, token, i128::from(supply));
                    testkit::issue(&key(from), "TOK", 0, supply, FEE, nonce, &genesis)
                }
                Op::Token {
                    to, pick, percent, ..
                } => {
                    let held: Vec<(TokenId, u64)> = start
                        .tokens
                        .iter()
                        .filter(|((n, _), balance)| *n == from && **balance > 0)
                        .map(|((_, token), balance)| (*token, *balance))
                        .chain(
                            issued_here
                                .iter()
                                .filter(|((n, _), _)| *n == from)
                                .map(|((_, token), supply)| (*token, *supply)),
                        )
                        .collect();
                    let Some((token, balance)) = held.get(pick % held.len().max(1)).copied() else {
                        continue;
                    };
                    let spendable_token =
                        balance - spent_token.get(&(from, token)).copied().unwrap_or(0);
                    let amount =
                        u64::try_from(u128::from(spendable_token) * u128::from(percent) / 100)
                            .unwrap();
                    if amount == 0 {
                        continue; // the mempool's relay policy refuses a transfer of nothing
                    }
                    *spent_token.entry((from, token)).or_default() += amount;
                    model.add_token(from, token, -i128::from(amount));
                    model.add_token(to, token, i128::from(amount));
                    testkit::token_transfer(
                        &key(from),
                        address(to),
                        token,
                        amount,
                        FEE,
                        nonce,
                        &genesis,
                    )
                }
            };
            prop_assert_eq!(chain.submit_transaction(tx.clone()), Ok(tx.id()));
            *spent_native.entry(from).or_default() += FEE;
            *sent.entry(from).or_default() += 1;
            let (b, n) = model.native(from);
            model.native.insert(from, (b - FEE, n + 1));
            txs.push(tx);
        }
        let fees = FEE * txs.len() as u64;
        let (b, n) = model.native(MINER);
        model.native.insert(MINER, (b + reward + fees, n));

        let now = chain.tip().timestamp_ms + 1_000;
        let block = if from_template {
            let template = chain.template(address(MINER), now);
            prop_assert_eq!(template.block.txs.len(), txs.len());
            let mut block = template.block;
            testkit::mine(&mut block.header, &template.target);
            block
        } else {
            testkit::block_on(&chain, &chain.tip().hash, address(MINER), txs, now)
        };
        match chain.process_block(block, now) {
            Ok(BlockOutcome::Accepted(accepted)) => {
                prop_assert!(accepted.tip_change.is_some());
                prop_assert!(accepted.rejected.is_empty());
            }
            other => prop_assert!(false, "valid block refused: {:?}", other),
        }
        prop_assert!(chain.mempool().is_empty());

        let state = chain.state();
        for n in (1..=ACCOUNTS).chain([MINER]) {
            let account = state.account(&address(n));
            prop_assert_eq!((account.balance.get(), account.nonce), model.native(n));
        }
        prop_assert_eq!(
            state.total_supply().map(Amount::get),
            Some(ACCOUNTS * FUNDS + reward * height)
        );
        prop_assert_eq!(state.tokens().count(), model.supply.len());
        for (token, supply) in &model.supply {
            prop_assert_eq!(
                state.token(token).map(|info| info.supply.get()),
                Some(*supply)
            );
            prop_assert_eq!(state.token_holdings(token).map(Amount::get), Some(*supply));
            for n in 1..=ACCOUNTS {
                prop_assert_eq!(
                    state.token_balance(&address(n), token).get(),
                    model.token(n, token)
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn issues_and_transfers_conserve_every_supply(
        blocks in prop::collection::vec((any::<bool>(), prop::collection::vec(op(), 0..6)), 1..7)
    ) {
        run(blocks)?;
    }
}
