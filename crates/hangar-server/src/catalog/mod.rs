//! The domain services the surfaces share (DESIGN.md, "Layout"): who may read an entity, who
//! may use bytes already stored, putting uploaded files together, serving blobs with ranges,
//! whole versions as zips, and the signed links of the data plane. Surfaces turn what these
//! answer into their own wire formats; nothing here knows a wire format.

pub mod access;
pub mod assembly;
pub mod blobs;
pub mod links;
pub mod reuse;
pub mod signing;
pub mod zip;
