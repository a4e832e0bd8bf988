//! The entity a request names, as extractors (as crates.io's `CratePath`): the kind comes from
//! the route (an `Extension` each kind's routes carry), the rest from the path and the caller.
//! [`Named`] only reads the request; [`Entity`] also finds the entity for the handler's op.

use crate::api::extract::Path;
use crate::auth::Caller;
use crate::catalog::entities::{EntityPath, Found, find};
use crate::catalog::kinds::Kind;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hangar_core::policy::ArtifactOp;
use std::marker::PhantomData;

/// The kind of the route: `Extension(kind)` on every route of that kind.
pub async fn kind_of(parts: &mut Parts, state: &AppState) -> ApiResult<&'static Kind> {
    let Extension(kind) = Extension::<&'static Kind>::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::Internal(format!("a route without its kind: {e}")))?;
    Ok(kind)
}

/// `{OT}/{kind}/{name}[/versions/{version}]` and who asks, not yet looked up: for handlers
/// whose op depends on the body, or that read the body before the entity.
pub struct Named {
    pub kind: &'static Kind,
    pub caller: Caller,
    pub path: EntityPath,
}

impl FromRequestParts<AppState> for Named {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let kind = kind_of(parts, state).await?;
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(path) = Path::<EntityPath>::from_request_parts(parts, state).await?;
        Ok(Named { kind, caller, path })
    }
}

impl Named {
    /// The entity, if the caller may do `op` (known only from the body) to it.
    pub async fn find(self, state: &AppState, op: ArtifactOp) -> ApiResult<Entity<Any>> {
        self.found(state, op).await
    }

    /// The entity, if the caller may do `O` to it.
    pub async fn load<O: Op>(self, state: &AppState) -> ApiResult<Entity<O>> {
        self.found(state, O::OP).await
    }

    async fn found<O>(self, state: &AppState, op: ArtifactOp) -> ApiResult<Entity<O>> {
        let found = find(state, self.kind.stored, &self.caller, &self.path, op).await?;
        Ok(Entity {
            kind: self.kind,
            caller: self.caller,
            path: self.path,
            found,
            op: PhantomData,
        })
    }
}

/// What a handler does to the entity, as a type: [`Entity<See>`], [`Entity<Download>`].
pub trait Op {
    const OP: ArtifactOp;
}

pub struct See;
pub struct Download;
/// Whatever op [`Named::find`] was given.
pub struct Any;

impl Op for See {
    const OP: ArtifactOp = ArtifactOp::Get;
}

impl Op for Download {
    const OP: ArtifactOp = ArtifactOp::Download;
}

/// The entity the request names, found for the caller and op `O`.
pub struct Entity<O> {
    pub kind: &'static Kind,
    pub caller: Caller,
    pub path: EntityPath,
    pub found: Found,
    op: PhantomData<O>,
}

impl<O: Op> FromRequestParts<AppState> for Entity<O> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        Named::from_request_parts(parts, state).await?.load(state).await
    }
}
