//! The domain services the surfaces share (DESIGN.md, "Layout"): who may see and do what
//! (`reveal`), the kinds of entities and the metadata fields each takes, where entities live and how they are found, who may use bytes already stored,
//! putting uploaded files together, serving blobs with ranges, whole versions as zips, and the
//! signed links of the data plane. Surfaces turn what these answer into their own wire formats;
//! nothing here knows a wire format.

pub mod access;
pub mod approvals;
pub mod assembly;
pub mod blobs;
pub mod charts;
pub mod collections;
pub mod document;
pub mod entities;
pub mod error;
pub mod fields;
pub mod image_signatures;
pub mod images;
pub mod kinds;
pub mod limits;
pub mod links;
pub mod model_signing;
pub mod offer;
pub mod products;
pub mod publishing;
pub mod pushed;
pub mod repositories;
pub mod repository_catalog;
pub mod reuse;
pub mod reveal;
pub mod signing;
pub mod space;
pub mod standing;
pub mod trust;
pub mod uploaded_signatures;
pub mod visibility;
pub mod zip;
