//! What differs between models and resources on the wire: path segment, JSON keys, fields.

use super::fields::{MODEL_FIELDS, MODEL_VERSION_FIELDS, RESOURCE_FIELDS, RESOURCE_VERSION_FIELDS, Spec};
use hangar_core::policy::ArtifactKind;
use hangar_store::meta::ArtifactType;

pub struct Kind {
    pub stored: ArtifactType,
    pub policy: ArtifactKind,
    /// `models` or `resources`: the path segment and the transfer `artifactType`.
    pub segment: &'static str,
    /// The search resource type.
    pub search: &'static str,
    /// Singular JSON key of an entity (`model`, `recipe`), and of its versions and files.
    pub key: &'static str,
    pub version_key: &'static str,
    pub versions_key: &'static str,
    pub files_key: &'static str,
    /// The key of a plain listing (`models`, `recipes`).
    pub list_key: &'static str,
    /// How a person calls it in messages.
    pub noun: &'static str,
    pub fields: Spec,
    pub version_fields: Spec,
    /// The entity field that holds the framework (search attribute `framework`).
    pub framework_field: &'static str,
}

pub const MODEL: Kind = Kind {
    stored: ArtifactType::Model,
    policy: ArtifactKind::Model,
    segment: "models",
    search: "MODEL",
    key: "model",
    version_key: "modelVersion",
    versions_key: "modelVersions",
    files_key: "modelFiles",
    list_key: "models",
    noun: "model",
    fields: MODEL_FIELDS,
    version_fields: MODEL_VERSION_FIELDS,
    framework_field: "framework",
};

pub const RESOURCE: Kind = Kind {
    stored: ArtifactType::Resource,
    policy: ArtifactKind::Resource,
    segment: "resources",
    search: "RECIPE",
    key: "recipe",
    version_key: "recipeVersion",
    versions_key: "recipeVersions",
    files_key: "recipeFiles",
    list_key: "recipes",
    noun: "resource",
    fields: RESOURCE_FIELDS,
    version_fields: RESOURCE_VERSION_FIELDS,
    framework_field: "trainingFramework",
};
