//! How each kind of versioned entity is named on NGC's wire (ngc-api.md §4, §6, §7): the path
//! segment, the search type and the JSON keys. The server answers in these names and the CLI
//! reads them, so both take them from here.

/// The names of one kind of entity on the wire, and how a person calls it.
#[derive(Debug)]
pub struct Wire {
    /// The path segment: `models`, `resources`, `helm-charts` (and a transfer's `artifactType`).
    pub segment: &'static str,
    /// The search resource type: `MODEL`, `RECIPE`, `HELM_CHART`.
    pub search: &'static str,
    /// JSON keys of an entity, a version, the version list, the file list and a plain listing.
    pub key: &'static str,
    pub version_key: &'static str,
    pub versions_key: &'static str,
    pub files_key: &'static str,
    pub list_key: &'static str,
    /// The field of a version that names it (`versionId`; NGC names a chart version by `id`).
    pub version_id: &'static str,
    /// The entity field that holds the framework (search attribute `framework`).
    pub framework_field: &'static str,
    /// `model`, `resource` or `chart`, and with a capital.
    pub noun: &'static str,
    pub title: &'static str,
}

pub const MODEL: Wire = Wire {
    segment: "models",
    search: "MODEL",
    key: "model",
    version_key: "modelVersion",
    versions_key: "modelVersions",
    files_key: "modelFiles",
    list_key: "models",
    version_id: "versionId",
    framework_field: "framework",
    noun: "model",
    title: "Model",
};

/// Resources are NGC's "recipes".
pub const RESOURCE: Wire = Wire {
    segment: "resources",
    search: "RECIPE",
    key: "recipe",
    version_key: "recipeVersion",
    versions_key: "recipeVersions",
    files_key: "recipeFiles",
    list_key: "recipes",
    version_id: "versionId",
    framework_field: "trainingFramework",
    noun: "resource",
    title: "Resource",
};

/// Charts are NGC's generic "artifacts".
pub const CHART: Wire = Wire {
    segment: "helm-charts",
    search: "HELM_CHART",
    key: "artifact",
    version_key: "artifactVersion",
    versions_key: "artifactVersions",
    files_key: "artifactFiles",
    list_key: "artifacts",
    version_id: "id",
    framework_field: "framework",
    noun: "chart",
    title: "Chart",
};

/// Collections have no versions or files: only their entity and list keys count.
pub const COLLECTION: Wire = Wire {
    segment: "collections",
    search: "COLLECTION",
    key: "collection",
    version_key: "",
    versions_key: "",
    files_key: "",
    list_key: "collections",
    version_id: "",
    framework_field: "framework",
    noun: "collection",
    title: "Collection",
};

/// One kind of entity a collection holds, as ngc names it in a collection's paths
/// (`…/collections/{name}/artifacts/{segment}`) and in its item listings (`artifactType`).
#[derive(Debug)]
pub struct Member {
    /// `repositories`, `models`, `recipes` (resources), `helm-charts`.
    pub segment: &'static str,
    pub artifact_type: &'static str,
    /// What a person calls it: `image`, `model`, `resource`, `chart`.
    pub noun: &'static str,
}

/// Every kind of item, in the order ngc shows them (Images, Charts, Models, Resources).
pub static MEMBERS: [Member; 4] = [
    Member {
        segment: "repositories",
        artifact_type: "REPOSITORY",
        noun: "image",
    },
    Member {
        segment: "helm-charts",
        artifact_type: "HELM_CHART",
        noun: "chart",
    },
    Member {
        segment: "models",
        artifact_type: "MODEL",
        noun: "model",
    },
    Member {
        segment: "recipes",
        artifact_type: "MODEL_SCRIPT",
        noun: "resource",
    },
];
