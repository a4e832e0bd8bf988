//! Bytes already stored, used again without being sent (NGC's dedupe check, a commit of a file
//! by its digest). Knowing a digest is not reading the bytes: the caller may use them only if
//! it may download something that holds them — a repository they are linked into, a complete
//! model or resource version that has them as a file, a chart version whose archive they are.
//! Otherwise the bytes must be uploaded. (Uploads of the caller's own, into the version being
//! made, are the other way in: `hangar_store::meta::MetaStore::received_file`.)

use super::access::policy_kind;
use super::error::DomainResult;
use super::reveal::{Guarded, may};
use super::standing::standing;
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::policy::{ArtifactKind, ArtifactOp, Target};
use hangar_store::blob::Digest;
use hangar_store::meta::{Holder, HolderKind};

/// Most holders of one digest looked at: a digest held by more of the caller's own objects
/// than this is still found through the first of them.
const MAX_HOLDERS: i64 = 200;

/// The size of the stored bytes `digest`, if the caller may use them without sending them.
pub async fn reusable(state: &AppState, caller: &Caller, digest: &Digest) -> DomainResult<Option<u64>> {
    // Only the caller's own orgs (and public objects) can hold something it may read.
    let orgs = (!caller.subject.platform_admin).then(|| orgs_of(caller));
    let holders = state
        .meta
        .holders_of(digest.as_str(), orgs.as_deref(), MAX_HOLDERS)
        .await?;
    let mut readable_one = false;
    for holder in &holders {
        if readable(state, caller, holder).await? {
            readable_one = true;
            break;
        }
    }
    if !readable_one {
        return Ok(None);
    }
    Ok(state.blobs.stat(digest).await?)
}

fn orgs_of(caller: &Caller) -> Vec<String> {
    let mut orgs: Vec<String> = caller.subject.grants.iter().map(|g| g.org.clone()).collect();
    orgs.extend(caller.key_org.clone());
    orgs.sort();
    orgs.dedup();
    orgs
}

async fn readable(state: &AppState, caller: &Caller, holder: &Holder) -> DomainResult<bool> {
    let kind = match holder.kind {
        HolderKind::Repository => ArtifactKind::Container,
        HolderKind::Artifact(stored) => policy_kind(stored),
    };
    let thing = Guarded {
        kind,
        target: Target {
            org: &holder.org,
            team: holder.team.as_deref(),
            entity: Some(&holder.path),
        },
        access: holder.access,
        standing: standing(state, caller, holder.entity(), holder.access).await?,
    };
    Ok(may(caller, &thing, ArtifactOp::Download))
}
