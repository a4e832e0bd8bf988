//! What differs between models, resources, Helm charts and collections: their names on the wire
//! (`hangar_core::wire`), how they are stored and checked, and their fields.

use super::fields::{
    CHART_FIELDS, CHART_VERSION_FIELDS, COLLECTION_FIELDS, MODEL_FIELDS, MODEL_VERSION_FIELDS, RESOURCE_FIELDS,
    RESOURCE_VERSION_FIELDS, Spec,
};
use hangar_core::policy::ArtifactKind;
use hangar_core::wire::{self, Wire};
use hangar_store::meta::ArtifactType;

pub struct Kind {
    pub wire: &'static Wire,
    pub stored: ArtifactType,
    pub policy: ArtifactKind,
    pub fields: Spec,
    pub version_fields: Spec,
}

pub const MODEL: Kind = Kind {
    wire: &wire::MODEL,
    stored: ArtifactType::Model,
    policy: ArtifactKind::Model,
    fields: MODEL_FIELDS,
    version_fields: MODEL_VERSION_FIELDS,
};

pub const RESOURCE: Kind = Kind {
    wire: &wire::RESOURCE,
    stored: ArtifactType::Resource,
    policy: ArtifactKind::Resource,
    fields: RESOURCE_FIELDS,
    version_fields: RESOURCE_VERSION_FIELDS,
};

/// Charts: versions come from pushed archives (the Helm repository), not file uploads.
pub const CHART: Kind = Kind {
    wire: &wire::CHART,
    stored: ArtifactType::Chart,
    policy: ArtifactKind::Chart,
    fields: CHART_FIELDS,
    version_fields: CHART_VERSION_FIELDS,
};

/// Collections: an entity and its items (`api::collections`), no versions.
pub const COLLECTION: Kind = Kind {
    wire: &wire::COLLECTION,
    stored: ArtifactType::Collection,
    policy: ArtifactKind::Collection,
    fields: COLLECTION_FIELDS,
    version_fields: CHART_VERSION_FIELDS,
};

impl Kind {
    /// Whether versions are made of uploaded files (models, resources), not of one archive.
    pub fn has_file_uploads(&self) -> bool {
        matches!(self.stored, ArtifactType::Model | ArtifactType::Resource)
    }

    /// Whether the entity has versions at all (a collection has none).
    pub fn has_versions(&self) -> bool {
        self.stored != ArtifactType::Collection
    }
}
