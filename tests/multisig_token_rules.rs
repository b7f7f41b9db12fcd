//! One test per consensus rule of multisig policies and tokens (issue 15): each builds the
//! offending transaction and checks that exactly that `TxError` variant comes back, from
//! the mempool and, for the stateful rules, from a block. Also: valid spends and token
//! moves, a policy's own nonce and replay protection, a reorg through a block with an
//! issue and token transfers, and golden vectors of the new encodings.

mod common;

use common::chain::{expect_tx_refused, offer, open_chain, pending_ids};
use ironchain::chain::state::{Account, State, TokenInfo};
use ironchain::chain::{BlockOutcome, Chain, ChainError};
use ironchain::consensus::address::Address;
use ironchain::consensus::amount::Amount;
use ironchain::consensus::error::{BlockError, TxError};
use ironchain::consensus::hash::{to_hex, BlockHash, TokenId, TxId};
use ironchain::consensus::params::ChainParams;
use ironchain::consensus::policy::Policy;
use ironchain::consensus::token::token_id;
use ironchain::consensus::transaction::{Cosignature, Signature, Transaction, TxExtension, TxKind};
use ironchain::testkit::{self, address, key};
use tempfile::TempDir;

const FUNDS: u64 = 1_000;
const ALICE: u64 = 1;
const BOB: u64 = 2;
const CAROL: u64 = 3;
const DAVE: u64 = 4;
const MINER: u64 = 9;

/// Alice, Bob and Carol's 2-of-3 policy.
fn policy() -> Policy {
    Policy::new(2, vec![address(ALICE), address(BOB), address(CAROL)]).unwrap()
}

fn policy_account() -> Address {
    policy().address().account()
}

fn params() -> ChainParams {
    testkit::params(&[
        (address(ALICE), FUNDS),
        (address(BOB), FUNDS),
        (policy_account(), FUNDS),
    ])
}

fn setup() -> (TempDir, Chain) {
    open_chain(params())
}

fn genesis(chain: &Chain) -> BlockHash {
    chain.genesis_hash()
}

/// A spend of `amount` coins from the policy to Dave, cosigned by `signers`.
fn spend(chain: &Chain, signers: &[u64], amount: u64, nonce: u64) -> Transaction {
    let keys: Vec<_> = signers.iter().map(|n| key(*n)).collect();
    let refs: Vec<_> = keys.iter().collect();
    testkit::policy_spend(
        &policy(),
        &refs,
        TxKind::Transfer,
        address(DAVE),
        amount,
        1,
        nonce,
        &genesis(chain),
    )
}

fn gold(chain: &Chain, supply: u64, nonce: u64) -> Transaction {
    testkit::issue(&key(ALICE), "GOLD", 2, supply, 1, nonce, &genesis(chain))
}

fn mine(chain: &mut Chain, txs: Vec<Transaction>) -> BlockHash {
    let block = testkit::next_block(chain, address(MINER), txs);
    let hash = block.hash();
    match offer(chain, block) {
        Ok(BlockOutcome::Accepted(accepted)) => assert!(accepted.tip_change.is_some()),
        other => panic!("block refused: {other:?}"),
    }
    hash
}

/// Offers a block holding `tx` alone: exactly `expected` comes back for it and the tip
/// and state do not move.
fn expect_block_refused(chain: &mut Chain, tx: Transaction, expected: TxError) {
    let state = chain.state().clone();
    let tip = chain.tip();
    let txid = tx.id();
    let block = testkit::next_block(chain, address(MINER), vec![tx]);
    match offer(chain, block) {
        Err(ChainError::Block(BlockError::InvalidTransaction {
            index,
            txid: id,
            error,
        })) => {
            assert_eq!((index, id, error), (0, txid, expected));
        }
        other => panic!("expected an invalid transaction, got {other:?}"),
    }
    assert_eq!(chain.tip(), tip);
    assert_eq!(chain.state(), &state);
}

/// Gold issued by Alice (1,000.00 GOLD) and mined; returns its id.
fn issued_gold(chain: &mut Chain) -> TokenId {
    let tx = gold(chain, 100_000, 0);
    chain.submit_transaction(tx.clone()).unwrap();
    mine(chain, vec![tx]);
    token_id(&address(ALICE), 0)
}

// ---- multisig rules ----

#[test]
fn two_of_three_spend_is_accepted_mined_and_uses_the_policy_nonce() {
    let (_dir, mut chain) = setup();
    let tx = spend(&chain, &[ALICE, CAROL], 100, 0);
    chain.submit_transaction(tx.clone()).unwrap();
    assert_eq!(
        chain.account(&policy_account()).1,
        1,
        "next nonce counts it"
    );
    mine(&mut chain, vec![tx.clone()]);
    assert_eq!(
        chain.state().account(&policy_account()),
        Account {
            balance: Amount::new(FUNDS - 101),
            nonce: 1
        }
    );
    assert_eq!(
        chain.state().account(&address(DAVE)).balance,
        Amount::new(100)
    );
    // Members' own accounts are untouched: the policy has its own nonce.
    assert_eq!(chain.state().account(&address(ALICE)).nonce, 0);
    // The same spend again is a replay.
    expect_tx_refused(
        &mut chain,
        tx.clone(),
        TxError::NonceTooLow {
            nonce: 0,
            expected: 1,
        },
    );
    expect_block_refused(
        &mut chain,
        tx,
        TxError::NonceTooLow {
            nonce: 0,
            expected: 1,
        },
    );
}

#[test]
fn one_signature_of_two_required_is_refused_with_its_message() {
    let (_dir, mut chain) = setup();
    let tx = spend(&chain, &[BOB], 100, 0);
    let expected = TxError::TooFewSignatures {
        got: 1,
        required: 2,
    };
    assert_eq!(expected.to_string(), "1 of 2 required signatures");
    expect_tx_refused(&mut chain, tx.clone(), expected.clone());
    expect_block_refused(&mut chain, tx, expected);
}

#[test]
fn a_signer_twice_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[BOB], 100, 0);
    let spend = tx.extension.as_mut().unwrap().policy.as_mut().unwrap();
    spend.signatures.push(spend.signatures[0].clone());
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::DuplicateSigner {
            signer: address(BOB),
        },
    );
}

#[test]
fn a_signer_outside_the_policy_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[ALICE], 100, 0);
    // Dave signs the same payload, validly, but is not a member.
    let mut dave_signed = tx.clone();
    let payload = tx.signing_payload(&genesis(&chain));
    let dave = Cosignature {
        signer: address(DAVE),
        signature: Signature::from_bytes(key(DAVE).sign(&payload).to_bytes()),
    };
    tx.extension
        .as_mut()
        .unwrap()
        .policy
        .as_mut()
        .unwrap()
        .signatures
        .push(dave);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::SignerNotMember {
            signer: address(DAVE),
        },
    );
    // `cosign` itself does not check membership: the rule is the chain's.
    dave_signed.cosign(&key(DAVE), &genesis(&chain));
    assert!(matches!(
        chain.submit_transaction(dave_signed),
        Err(TxError::SignerNotMember { .. })
    ));
}

#[test]
fn a_policy_that_does_not_hash_to_the_sender_is_refused() {
    let (_dir, mut chain) = setup();
    // The 1-of-3 policy of the same members, presented as if it were the 2-of-3 one.
    let easier = Policy::new(1, policy().members).unwrap();
    let mut tx = testkit::unsigned(address(DAVE), 100, 1, 0).for_policy(TxKind::Transfer, easier);
    tx.sender = policy_account();
    tx.cosign(&key(ALICE), &genesis(&chain));
    expect_tx_refused(&mut chain, tx, TxError::PolicyMismatch);
}

#[test]
fn a_bad_threshold_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[ALICE, BOB], 100, 0);
    let spend = tx.extension.as_mut().unwrap().policy.as_mut().unwrap();
    spend.policy.threshold = 4;
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::BadThreshold {
            threshold: 4,
            members: 3,
        },
    );
}

#[test]
fn unsorted_or_duplicate_members_are_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[ALICE, BOB], 100, 0);
    let spend = tx.extension.as_mut().unwrap().policy.as_mut().unwrap();
    spend.policy.members[1] = spend.policy.members[0];
    expect_tx_refused(&mut chain, tx, TxError::PolicyMembersNotCanonical);
}

#[test]
fn a_key_signature_on_a_policy_spend_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[ALICE, BOB], 100, 0);
    tx.signature = Signature::from_bytes([1; 64]);
    expect_tx_refused(&mut chain, tx, TxError::StraySignature);
}

#[test]
fn a_cosignature_that_does_not_verify_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = spend(&chain, &[ALICE], 100, 0);
    // Bob signs for another network.
    tx.cosign(&key(BOB), &BlockHash::from_bytes([7; 32]));
    expect_tx_refused(&mut chain, tx.clone(), TxError::BadSignature);
    expect_block_refused(&mut chain, tx, TxError::BadSignature);
}

#[test]
fn a_member_key_of_small_order_is_refused() {
    // A 1-of-1 policy whose member is the all-zero (small-order) key: anyone could
    // "sign" for it, so the signature rule refuses the key.
    let zero = Address::from_bytes([0; 32]);
    let weak = Policy::new(1, vec![zero]).unwrap();
    let (_dir, mut chain) = open_chain(testkit::params(&[(weak.address().account(), FUNDS)]));
    let mut tx = testkit::unsigned(address(DAVE), 1, 1, 0).for_policy(TxKind::Transfer, weak);
    tx.extension
        .as_mut()
        .unwrap()
        .policy
        .as_mut()
        .unwrap()
        .signatures
        .push(Cosignature {
            signer: zero,
            signature: Signature::from_bytes([0; 64]),
        });
    expect_tx_refused(&mut chain, tx, TxError::InvalidSignerKey { signer: zero });
}

#[test]
fn a_policy_cannot_spend_more_than_it_holds() {
    let (_dir, mut chain) = setup();
    let tx = spend(&chain, &[ALICE, BOB], FUNDS, 0);
    expect_tx_refused(
        &mut chain,
        tx,
        TxError::InsufficientBalance {
            balance: Amount::new(FUNDS),
            needed: Amount::new(FUNDS + 1),
        },
    );
}

#[test]
fn a_plain_transfer_in_the_new_encoding_is_refused() {
    let (_dir, mut chain) = setup();
    let mut tx = testkit::transfer(&key(ALICE), address(BOB), 5, 1, 0, &genesis(&chain));
    tx.extension = Some(Box::new(TxExtension {
        kind: TxKind::Transfer,
        policy: None,
    }));
    expect_tx_refused(&mut chain, tx, TxError::NeedlessExtension);
}

// ---- token rules ----

#[test]
fn issue_then_transfer_moves_tokens_and_charges_only_native_fees() {
    let (_dir, mut chain) = setup();
    let token = issued_gold(&mut chain);
    let info = chain.state().token(&token).cloned().unwrap();
    assert_eq!(
        info,
        TokenInfo {
            symbol: "GOLD".into(),
            decimals: 2,
            supply: Amount::new(100_000),
            issuer: address(ALICE),
            issue_txid: gold(&chain, 100_000, 0).id(),
        }
    );
    let tx = testkit::token_transfer(
        &key(ALICE),
        address(BOB),
        token,
        2_500,
        1,
        1,
        &genesis(&chain),
    );
    chain.submit_transaction(tx.clone()).unwrap();
    mine(&mut chain, vec![tx]);
    let state = chain.state();
    assert_eq!(
        state.token_balance(&address(ALICE), &token),
        Amount::new(97_500)
    );
    assert_eq!(
        state.token_balance(&address(BOB), &token),
        Amount::new(2_500)
    );
    assert_eq!(
        state.account(&address(ALICE)).balance,
        Amount::new(FUNDS - 2)
    );
    assert_eq!(state.account(&address(BOB)).balance, Amount::new(FUNDS));
}

#[test]
fn a_bad_symbol_is_refused() {
    let (_dir, mut chain) = setup();
    for symbol in ["", "gold", "TOOLONGXX", "GO-LD"] {
        let tx = testkit::issue(&key(ALICE), symbol, 2, 1, 1, 0, &genesis(&chain));
        expect_tx_refused(
            &mut chain,
            tx,
            TxError::BadSymbol {
                symbol: symbol.into(),
            },
        );
    }
}

#[test]
fn too_many_decimals_are_refused() {
    let (_dir, mut chain) = setup();
    let tx = testkit::issue(&key(ALICE), "GOLD", 19, 1, 1, 0, &genesis(&chain));
    expect_tx_refused(&mut chain, tx, TxError::BadDecimals { decimals: 19 });
}

#[test]
fn a_zero_supply_is_refused() {
    let (_dir, mut chain) = setup();
    let tx = gold(&chain, 0, 0);
    expect_tx_refused(&mut chain, tx.clone(), TxError::ZeroSupply);
    let block = testkit::next_block(&chain, address(MINER), vec![tx.clone()]);
    match offer(&mut chain, block) {
        Err(ChainError::Block(BlockError::InvalidTransaction { error, .. })) => {
            assert_eq!(error, TxError::ZeroSupply)
        }
        other => panic!("expected an invalid transaction, got {other:?}"),
    }
}

#[test]
fn an_issue_to_someone_else_is_refused() {
    let (_dir, mut chain) = setup();
    let tx = testkit::unsigned(address(BOB), 10, 1, 0).sign_kind(
        TxKind::Issue {
            symbol: "GOLD".into(),
            decimals: 0,
        },
        &key(ALICE),
        &genesis(&chain),
    );
    expect_tx_refused(&mut chain, tx, TxError::IssueReceiverNotIssuer);
}

#[test]
fn an_issue_must_pay_the_token_issue_fee_which_goes_to_the_miner() {
    let (_dir, mut chain) = open_chain(ChainParams {
        token_issue_fee: Amount::new(50),
        ..params()
    });
    let cheap = gold(&chain, 10, 0);
    expect_tx_refused(
        &mut chain,
        cheap,
        TxError::IssueFeeTooLow {
            fee: Amount::new(1),
            min: Amount::new(51),
        },
    );
    let paid = testkit::issue(&key(ALICE), "GOLD", 2, 10, 51, 0, &genesis(&chain));
    chain.submit_transaction(paid.clone()).unwrap();
    let supply = chain.state().total_supply();
    mine(&mut chain, vec![paid]);
    let reward = chain.params().block_reward;
    assert_eq!(
        chain.state().account(&address(MINER)).balance,
        reward.checked_add(Amount::new(51)).unwrap()
    );
    assert_eq!(
        chain.state().total_supply(),
        supply.and_then(|s| s.checked_add(reward))
    );
}

#[test]
fn an_unknown_token_is_refused() {
    let (_dir, mut chain) = setup();
    let token = TokenId::from_bytes([5; 32]);
    let tx = testkit::token_transfer(&key(ALICE), address(BOB), token, 1, 1, 0, &genesis(&chain));
    expect_tx_refused(&mut chain, tx.clone(), TxError::UnknownToken { token });
    expect_block_refused(&mut chain, tx, TxError::UnknownToken { token });
}

#[test]
fn an_overdraw_of_tokens_is_refused() {
    let (_dir, mut chain) = setup();
    let token = issued_gold(&mut chain);
    let g = genesis(&chain);
    let too_much = testkit::token_transfer(&key(ALICE), address(BOB), token, 100_001, 1, 1, &g);
    let expected = TxError::InsufficientTokenBalance {
        balance: Amount::new(100_000),
        needed: Amount::new(100_001),
    };
    expect_tx_refused(&mut chain, too_much.clone(), expected.clone());
    expect_block_refused(&mut chain, too_much, expected);
    // Bob holds none.
    let bob = testkit::token_transfer(&key(BOB), address(ALICE), token, 1, 1, 0, &g);
    expect_tx_refused(
        &mut chain,
        bob,
        TxError::InsufficientTokenBalance {
            balance: Amount::ZERO,
            needed: Amount::new(1),
        },
    );
    // Pending transfers count: two of 60,000 do not fit in 100,000.
    let first = testkit::token_transfer(&key(ALICE), address(BOB), token, 60_000, 1, 1, &g);
    chain.submit_transaction(first).unwrap();
    let second = testkit::token_transfer(&key(ALICE), address(BOB), token, 60_000, 1, 2, &g);
    expect_tx_refused(
        &mut chain,
        second,
        TxError::InsufficientTokenBalance {
            balance: Amount::new(40_000),
            needed: Amount::new(60_000),
        },
    );
}

#[test]
fn a_token_balance_overflow_is_refused() {
    // A fixed supply bounds every balance, so only an inconsistent state (as a corrupted
    // store could hold) can reach this guard; it must refuse, not wrap.
    let token = TokenId::from_bytes([5; 32]);
    let info = TokenInfo {
        symbol: "GOLD".into(),
        decimals: 0,
        supply: Amount::new(u64::MAX),
        issuer: address(ALICE),
        issue_txid: TxId::from_bytes([0; 32]),
    };
    let state = State::from_accounts([(
        address(ALICE),
        Account {
            balance: Amount::new(FUNDS),
            nonce: 0,
        },
    )])
    .with_tokens(
        [(token, info)],
        [
            (address(ALICE), token, Amount::new(10)),
            (address(BOB), token, Amount::MAX),
        ],
    );
    let tx = testkit::token_transfer(
        &key(ALICE),
        address(BOB),
        token,
        1,
        1,
        0,
        &BlockHash::default(),
    );
    assert_eq!(
        state.check_transaction(&tx),
        Err(TxError::TokenBalanceOverflow)
    );
}

#[test]
fn a_multisig_policy_can_issue_and_send_tokens() {
    let (_dir, mut chain) = setup();
    let g = genesis(&chain);
    let issue = testkit::policy_spend(
        &policy(),
        &[&key(ALICE), &key(BOB)],
        TxKind::Issue {
            symbol: "CLUB".into(),
            decimals: 0,
        },
        policy_account(),
        500,
        1,
        0,
        &g,
    );
    chain.submit_transaction(issue.clone()).unwrap();
    let token = token_id(&policy_account(), 0);
    // Sent while the issue is still pending: the policy's own run may spend it.
    let send = testkit::policy_spend(
        &policy(),
        &[&key(BOB), &key(CAROL)],
        TxKind::TokenTransfer { token },
        address(DAVE),
        200,
        1,
        1,
        &g,
    );
    chain.submit_transaction(send.clone()).unwrap();
    let template = chain.template(address(MINER), chain.tip().timestamp_ms + 1_000);
    assert_eq!(template.block.txs, vec![issue.clone(), send.clone()]);
    mine(&mut chain, vec![issue, send]);
    assert_eq!(
        chain.state().token_balance(&policy_account(), &token),
        Amount::new(300)
    );
    assert_eq!(
        chain.state().token_balance(&address(DAVE), &token),
        Amount::new(200)
    );
}

// ---- reorg ----

#[test]
fn a_reorg_through_an_issue_and_token_transfers_restores_every_balance_and_the_mempool() {
    let (_dir, mut chain) = setup();
    let g = genesis(&chain);
    let fork_point = chain.tip().hash;
    let before = chain.state().clone();
    let issue = gold(&chain, 100_000, 0);
    let token = token_id(&address(ALICE), 0);
    let to_bob = testkit::token_transfer(&key(ALICE), address(BOB), token, 700, 1, 1, &g);
    let to_policy = testkit::token_transfer(&key(ALICE), policy_account(), token, 300, 1, 2, &g);
    let coins = spend(&chain, &[ALICE, BOB], 50, 0);
    let txs = vec![issue, to_bob, to_policy, coins];
    let mut expected_pending: Vec<TxId> = txs.iter().map(Transaction::id).collect();
    expected_pending.sort();
    let mined = mine(&mut chain, txs);
    assert_eq!(
        chain.state().token_balance(&address(BOB), &token),
        Amount::new(700)
    );
    assert!(chain.mempool().is_empty());

    // A heavier branch from the fork point without those transactions.
    let time = chain.tip().timestamp_ms;
    let first = testkit::block_on(&chain, &fork_point, address(DAVE), vec![], time + 1);
    let first_hash = first.hash();
    offer(&mut chain, first).unwrap();
    let second = testkit::block_on(&chain, &first_hash, address(DAVE), vec![], time + 2);
    match offer(&mut chain, second).unwrap() {
        BlockOutcome::Accepted(accepted) => {
            let change = accepted.tip_change.expect("the branch takes over");
            assert_eq!(change.disconnected, vec![mined]);
            assert_eq!(change.returned_to_mempool, 4);
        }
        other => panic!("branch not accepted: {other:?}"),
    }
    // Every account and token balance is as before the block, but for Dave's rewards.
    let state = chain.state();
    assert_eq!(state.token(&token), None);
    assert_eq!(state.token_balances_of(&address(ALICE)).count(), 0);
    assert_eq!(state.token_balances_of(&address(BOB)).count(), 0);
    assert_eq!(state.token_balances_of(&policy_account()).count(), 0);
    for (address, account) in before.iter() {
        assert_eq!(state.account(address), *account);
    }
    assert_eq!(pending_ids(&chain), expected_pending);
    // And the returned transactions are mineable again, in nonce order.
    let template = chain.template(address(MINER), chain.tip().timestamp_ms + 1_000);
    assert_eq!(template.block.txs.len(), 4);
}

// ---- golden vectors ----

/// Fixed keys, genesis and fields: an accidental change of an encoding, an id or the
/// policy address derivation fails here.
#[test]
fn golden_vectors_of_the_new_kinds_and_a_policy_address() {
    let g = BlockHash::from_bytes([0x11; 32]);
    let issue = testkit::issue(&key(ALICE), "GOLD", 2, 1_000_000, 5, 7, &g);
    let token = token_id(&address(ALICE), 7);
    let token_send = testkit::token_transfer(&key(ALICE), address(BOB), token, 2_500, 3, 8, &g);
    let multisig = testkit::policy_spend(
        &policy(),
        &[&key(ALICE), &key(CAROL)],
        TxKind::Transfer,
        address(DAVE),
        100,
        2,
        0,
        &g,
    );
    let vectors = [
        ("policy address", policy().address().to_string()),
        ("token id", token.to_string()),
        ("issue encoding", to_hex(&issue.encode())),
        ("issue id", issue.id().to_string()),
        ("token transfer encoding", to_hex(&token_send.encode())),
        ("token transfer id", token_send.id().to_string()),
        ("multisig encoding", to_hex(&multisig.encode())),
        ("multisig id", multisig.id().to_string()),
    ];
    for tx in [&issue, &token_send, &multisig] {
        assert_eq!(tx.encode().len(), tx.encoded_size());
    }
    // The layout of the module documentation: format byte, kind tag, sender.
    assert!(vectors[2]
        .1
        .starts_with(&format!("0202{}", to_hex(address(ALICE).as_bytes()))));
    assert!(vectors[6]
        .1
        .starts_with(&format!("0200{}", to_hex(policy_account().as_bytes()))));
    for ((name, value), golden) in vectors.iter().zip(GOLDEN) {
        assert_eq!(value, golden, "{name}");
    }
}

const GOLDEN: [&str; 8] = [
    "icma4ed187c2ea5cc2c115cd625fc3e98fbb1784c0ffae08dd28c047dd478076bff6c6b1872",
    "34d1619ddd222940c9df11b5d072e6ac798ef6b67fabbb7eda6976087038e123",
    "0202287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab00000000000f424000000000000000050000000000000007000004474f4c4402000b228b84a96c5bdeb23fef09d06d1c6dbd6f0831f7706c005d89850454a71629beec849ae824e0203ee4c02564caaa498728ff9d0303e748b47a6b091d0c140f",
    "f558eb096fd8cb8e7d6256b4adac4d52065aa60fb83258dd9563632a93966c87",
    "0201287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f800000000000009c400000000000000030000000000000008000034d1619ddd222940c9df11b5d072e6ac798ef6b67fabbb7eda6976087038e12300bb44d513c7a0c3a607f8612025c9475d5497b0f51f029d207f2a1ace5da08f1f4ee55bcdd45cea59eaa8048c5824d1d344a14e0e132094b7b8f893ae1a003c0d",
    "e41e27ba15aa7ddabf47b5b34ba23c1280385ca427f7d627a2c0e0a63a5f4632",
    "0200a4ed187c2ea5cc2c115cd625fc3e98fbb1784c0ffae08dd28c047dd478076bff10da4f2d9ad938c694e98d0dde7d37c3485eae2db79b93f5fe7976cc24d69bb20000000000000064000000000000000200000000000000000000010203287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab4aae2938008b3b0fa77b79eadc58f2620294680f974bf8d2bb55c7c0a8a95363908da10b6b64d2e52b2411a30253cce61c382b1f3924945b6884684fbfed51f802287275830b79c6b3917196910f5002b6b9e729d81b463c91b035a19e531b07ab29826e0ebf84520285674f2a97c18a1baa1d6c837ecd73cb2a8b19a7af953129b38215ff373b5e2915e9a41563e8b04e3617531351692e025d8df488e7a3560a4aae2938008b3b0fa77b79eadc58f2620294680f974bf8d2bb55c7c0a8a9536373eb9983a828150330a502f3bed7519940ced1b16dfb7dd7d63dcdd19f618c24f2929a9edc65f0c2808f7ff96be5aa704c42f6a68893063b8c73e8e489b35a0f",
    "94dc0b9f9336e3acd1bc99799d987afe024fd16b1bbf3d00ff8257455531eb26",
];
