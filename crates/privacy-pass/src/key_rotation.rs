//! Issuer key rotation (spec §5.6): the steps staged → active → retiring → retired as pure
//! operations on a [`KeySet`]; the store backends persist the result with compare-and-swap.
//!
//! Per tier: [`KeySet::stage`] lists a new key with a future `not-before` (publish it before
//! serving it), [`KeySet::promote`] makes it the active key once `not-before` has passed and
//! moves the old one to retiring (still listed and verifying while cached tokens drain), and
//! [`KeySet::retire`] stops accepting the retiring keys.

use rand_core::CryptoRng;

use crate::{Error, KeyRecord, KeySet, KeyState, Result, SigningKey, Tier, TokenKeyId};

/// Fresh keys drawn before giving up on a truncated key id no live key uses (each draw collides
/// with probability live/256).
const MAX_DRAWS: usize = 16;

impl KeySet {
    /// Gives `tier` an active key (usable from `now`) if it has none. Returns whether it added one.
    pub fn ensure_active<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        tier: &Tier,
        now: u64,
    ) -> Result<bool> {
        if self.active(tier).is_some() {
            return Ok(false);
        }
        let key = self.fresh_key(rng)?;
        self.records_mut().push(KeyRecord {
            tier: tier.clone(),
            key,
            state: KeyState::Active,
            not_before: now,
        });
        Ok(true)
    }

    /// Stages a new key for `tier`, listed in the directory with `not_before` (which must lie
    /// after `now`: RFC 9578 clients must see the key before it is served). Returns its key id.
    pub fn stage<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        tier: &Tier,
        not_before: u64,
        now: u64,
    ) -> Result<TokenKeyId> {
        if self.active(tier).is_none() {
            return Err(Error::Rotation(format!(
                "tier {:?} has no active key to rotate",
                tier.0
            )));
        }
        if self.in_state(tier, KeyState::Staged).is_some() {
            return Err(Error::Rotation(format!(
                "tier {:?} already has a staged key",
                tier.0
            )));
        }
        if not_before <= now {
            return Err(Error::Rotation(format!(
                "not-before {not_before} must lie after now ({now})"
            )));
        }
        let key = self.fresh_key(rng)?;
        let id = key.public_key().key_id();
        self.records_mut().push(KeyRecord {
            tier: tier.clone(),
            key,
            state: KeyState::Staged,
            not_before,
        });
        Ok(id)
    }

    /// Makes the tier's staged key active (its `not-before` must have passed at `now`) and the
    /// previous active key retiring.
    pub fn promote(&mut self, tier: &Tier, now: u64) -> Result<()> {
        let staged = self
            .in_state(tier, KeyState::Staged)
            .ok_or_else(|| Error::Rotation(format!("tier {:?} has no staged key", tier.0)))?;
        if staged.not_before > now {
            return Err(Error::Rotation(format!(
                "staged key's not-before {} has not passed (now {now})",
                staged.not_before
            )));
        }
        for r in self.records_mut().iter_mut().filter(|r| &r.tier == tier) {
            r.state = match r.state {
                KeyState::Active => KeyState::Retiring,
                KeyState::Staged => KeyState::Active,
                other => other,
            };
        }
        Ok(())
    }

    /// Stops accepting the tier's retiring keys. Returns how many were retired.
    pub fn retire(&mut self, tier: &Tier) -> usize {
        let mut n = 0;
        for r in self
            .records_mut()
            .iter_mut()
            .filter(|r| &r.tier == tier && r.state == KeyState::Retiring)
        {
            r.state = KeyState::Retired;
            n += 1;
        }
        n
    }

    /// A new key whose truncated id no live key (any tier) uses.
    fn fresh_key<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Result<SigningKey> {
        for _ in 0..MAX_DRAWS {
            let key = SigningKey::generate(rng)?;
            let t = key.public_key().key_id().truncated();
            let taken = self.records().iter().any(|r| {
                r.state != KeyState::Retired && r.key.public_key().key_id().truncated() == t
            });
            if !taken {
                return Ok(key);
            }
        }
        Err(Error::Rotation(
            "no free truncated key id after 16 draws".into(),
        ))
    }
}
