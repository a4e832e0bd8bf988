//! Hangar's web pages: one askama template per page, compiled into the binary and autoescaped,
//! and the static assets they link. Each page is a plain struct of what it shows; the web
//! surface fills it and calls [`askama::Template::render`]. Every page works without script:
//! links, plain GETs and form POSTs. Script only makes it faster (htmx: results while typing)
//! and adds copy buttons, from files of this server: the Content-Security-Policy forbids
//! inline code.

mod assets;
mod markdown;

pub use askama::Template;
pub use assets::{ASSETS, Asset, asset_at, asset_url};
pub use markdown::{MAX_MARKDOWN, markdown};

/// What every page's header shows: the signed-in user (if any) with the org/team switcher,
/// and the CSRF token its forms carry.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub user: Option<UserMenu>,
    pub csrf: String,
}

impl Chrome {
    /// The URL of the static file `name` ([`ASSETS`]).
    pub fn asset(&self, name: &str) -> &'static str {
        asset_url(name)
    }
}

#[derive(Debug, Clone)]
pub struct UserMenu {
    /// Whether the user may publish somewhere (then the header offers "Create").
    pub publishes: bool,
    pub name: String,
    pub email: String,
    /// `org` or `org / team`; empty when none is chosen.
    pub context: String,
    pub choices: Vec<Choice>,
}

/// The first letter of `title`, upper-case: the stand-in for a missing logo.
pub fn initial(title: &str) -> String {
    title
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default()
}

impl EntityPage {
    pub fn initial(&self) -> String {
        initial(&self.title)
    }
}

impl Card {
    /// The title's first letter, shown where a logo would be.
    pub fn initial(&self) -> String {
        initial(&self.title)
    }
}

impl UserMenu {
    /// The Private Registry of the chosen org or team, else of the first one the user belongs
    /// to; empty when they belong to none.
    pub fn registry(&self) -> String {
        let chosen = self
            .choices
            .iter()
            .find(|c| c.selected)
            .or(self.choices.first())
            .map(|c| c.value.as_str());
        match chosen.map(|value| value.split_once('/').ok_or(value)) {
            Some(Ok((org, team))) => format!("/orgs/{org}/teams/{team}/containers"),
            Some(Err(org)) => format!("/orgs/{org}/containers"),
            None => String::new(),
        }
    }

    /// The organization pages of the chosen org, else of the first one; empty when none.
    pub fn organization(&self) -> String {
        let chosen = self.choices.iter().find(|c| c.selected).or(self.choices.first());
        match chosen.map(|c| c.value.split('/').next().unwrap_or_default()) {
            Some(org) => format!("/orgs/{org}/admin"),
            None => String::new(),
        }
    }
}

/// One option of a menu or one checkbox: the org/team switcher (`value` is `org` or
/// `org/team`), a key's services and expiry.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignIn {
    pub chrome: Chrome,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub org: String,
    /// Empty for org-level roles.
    pub team: String,
    pub roles: String,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    /// "Browser" or "ngc device".
    pub kind: String,
    pub detail: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct Account {
    pub chrome: Chrome,
    pub name: String,
    pub email: String,
    pub member_since: String,
    pub terms_accepted: String,
    pub context: String,
    pub memberships: Vec<MembershipRow>,
    pub sessions: Vec<SessionRow>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "context.html")]
pub struct Context {
    pub chrome: Chrome,
    pub choices: Vec<Choice>,
    pub welcome: Option<String>,
}

/// How the invitation page offers to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationMode {
    /// No account yet: name, password twice, terms.
    NewAccount,
    /// An account exists and nobody (or someone else) is signed in: its password.
    SignInToJoin,
    /// Signed in as the invited user: one button.
    Join,
}

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct Invitation {
    pub chrome: Chrome,
    pub token: String,
    pub org: String,
    pub email: String,
    pub roles: String,
    pub expires: String,
    pub message: String,
    pub mode: InvitationMode,
    pub name: String,
    /// Set when someone else is signed in in this browser.
    pub signed_in_as: Option<String>,
    pub error: Option<String>,
}

impl Invitation {
    pub fn is_new(&self) -> bool {
        self.mode == InvitationMode::NewAccount
    }
    pub fn is_sign_in(&self) -> bool {
        self.mode == InvitationMode::SignInToJoin
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordLink {
    pub chrome: Chrome,
    pub token: String,
    pub email: String,
    pub with_terms: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "device.html")]
pub struct Device {
    pub chrome: Chrome,
    pub code: String,
    pub device_id: String,
    pub requested_email: String,
    pub address: String,
    pub requested_at: String,
    pub signed_in_email: String,
    pub error: Option<String>,
}

impl Device {
    pub fn email_differs(&self) -> bool {
        !self.requested_email.is_empty() && !self.requested_email.eq_ignore_ascii_case(&self.signed_in_email)
    }
}

/// A page that only tells something: an error, an expired link, a done action.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub chrome: Chrome,
    pub title: String,
    pub text: String,
    pub link: Option<(String, String)>,
}

/// One tab of the Explore page: a kind of software.
#[derive(Debug, Clone)]
pub struct Tab {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// One value of a facet field in the Explore sidebar.
#[derive(Debug, Clone)]
pub struct FacetOption {
    /// What the checkbox sends: `field:value`.
    pub token: String,
    pub label: String,
    pub count: i64,
    pub checked: bool,
}

/// One facet field of the Explore sidebar.
#[derive(Debug, Clone)]
pub struct FacetGroup {
    pub label: String,
    pub options: Vec<FacetOption>,
}

/// One result of the Explore page.
#[derive(Debug, Clone)]
pub struct Card {
    pub title: String,
    /// Its page; empty when it has none.
    pub href: String,
    /// `org/[team/]name`.
    pub path: String,
    pub publisher: String,
    pub description: String,
    /// The latest version or tag, if any.
    pub latest: String,
    pub modified: String,
    pub signed: bool,
    /// How it may be downloaded, as people read it ("Sign in to download", …).
    pub access: String,
    pub products: Vec<String>,
    pub labels: Vec<String>,
}

/// An option of the sort menu.
#[derive(Debug, Clone)]
pub struct SortOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Explore: search, filter and browse one kind of software (Catalog guide §7.3, §16.2, §17.2).
#[derive(Template)]
#[template(path = "explore.html")]
pub struct Explore {
    pub chrome: Chrome,
    /// "Private Registry · acme" in an org's registry; empty in the catalog.
    pub heading: String,
    /// What the last change did (a removal that came back here).
    pub notice: String,
    /// The current tab's path (`/catalog/models`): where the forms send their GETs.
    pub action: String,
    /// The current tab's label ("Models").
    pub kind: String,
    pub tabs: Vec<Tab>,
    pub query: String,
    pub sorts: Vec<SortOption>,
    /// Whether any filter is ticked.
    pub filtered: bool,
    /// This tab with the same text and no filters.
    pub clear: String,
    pub facets: Vec<FacetGroup>,
    pub cards: Vec<Card>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Set for a visitor who is not signed in: what signing in adds.
    pub sign_in_hint: bool,
}

/// A label and its value in an entity's details panel.
#[derive(Debug, Clone)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// One version of an entity, in its Versions tab.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: String,
    /// Its files in the file browser.
    pub href: String,
    pub size: String,
    pub files: i64,
    pub created: String,
    pub latest: bool,
}

/// A link with a label: a breadcrumb, a folder, a related collection.
#[derive(Debug, Clone, Default)]
pub struct Link {
    pub href: String,
    pub label: String,
    /// A note beside it (a folder's size and file count).
    pub note: String,
}

/// One file in the file browser, with its download link and the commands that fetch it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub name: String,
    pub size: String,
    /// Empty when the visitor may not download it.
    pub href: String,
    pub wget: String,
    pub curl: String,
}

/// One tag of a container repository, in its Tags tab.
#[derive(Debug, Clone)]
pub struct TagRow {
    pub tag: String,
    pub digest: String,
    pub size: String,
    pub updated: String,
    pub signed: bool,
    /// The keys that verify its signatures (`release, hangar`).
    pub signed_by: String,
    /// Why a signature it has is not verified; empty when none is unverified.
    pub signature_problem: String,
    /// `linux/amd64, linux/arm64` for a multi-architecture tag; its one platform otherwise.
    pub platforms: String,
    /// The pull command for this tag; empty when the visitor may not pull.
    pub pull: String,
}

/// A key the org trusts, as the Tags tab lists it.
#[derive(Debug, Clone)]
pub struct PublicKeyRow {
    pub name: String,
    /// "Server-held" or "Registered".
    pub held: String,
    pub fingerprint: String,
    /// Where the key is served (the org's server-held key); empty for registered ones.
    pub url: String,
    pub pem: String,
}

/// A command the download box offers.
#[derive(Debug, Clone)]
pub struct Command {
    pub label: String,
    pub text: String,
}

/// A model, resource, Helm chart or collection (Catalog guide §16.4.1, §17.5, §18.4), with
/// the guide's tabs: Overview, Versions, File Browser, Related Collections.
#[derive(Template, Default)]
#[template(path = "entity.html")]
pub struct EntityPage {
    pub chrome: Chrome,
    /// "Model", "Resource", "Helm Chart", "Collection".
    pub kind: String,
    /// The Explore tab it belongs to, and its label.
    pub explore: Link,
    pub title: String,
    /// The logo's https URL (checked when it was set); empty for none: the title's initial.
    pub logo: String,
    pub path: String,
    pub description: String,
    /// The overview, rendered and sanitized ([`markdown`]).
    pub overview: String,
    pub facts: Vec<Fact>,
    pub access: String,
    pub products: Vec<String>,
    pub labels: Vec<String>,
    pub signed: bool,
    /// The tabs, and which one is shown (`overview`, `versions`, `files`, `collections`).
    pub tabs: Vec<Tab>,
    pub section: String,
    pub versions: Vec<VersionRow>,
    pub tags: Vec<TagRow>,
    /// The keys that verify the tags' signatures ("View all public keys").
    pub public_keys: Vec<PublicKeyRow>,
    /// The version the file browser shows, its folder's breadcrumbs, sub-folders and files.
    pub version: String,
    pub crumbs: Vec<Link>,
    pub folders: Vec<Link>,
    pub files: Vec<FileRow>,
    /// Items of a collection, or collections holding this entity.
    pub related: Vec<Link>,
    pub download: Vec<Command>,
    /// Why there is no download, and what to do ("Sign in to download.").
    pub download_note: String,
    /// What the visitor may change here, and what the last change did.
    pub manage: Manage,
    pub notice: String,
}

/// One API key in the Setup → API keys list.
#[derive(Debug, Clone)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    /// "Personal" or "Service".
    pub kind: String,
    /// The secret's first characters, to tell keys apart.
    pub hint: String,
    /// Its owner's e-mail (personal keys of other members, for admins); empty for the user's own.
    pub owner: String,
    /// Services of a personal key, scopes of a service key.
    pub powers: String,
    pub expires: String,
    pub created: String,
    pub active: bool,
}

/// Setup → API keys (Private Registry guide §2.3.2): the keys of the org the user works in,
/// and the form that generates a personal key.
#[derive(Template)]
#[template(path = "keys.html")]
pub struct KeysPage {
    pub chrome: Chrome,
    /// The org the keys belong to; empty when none is chosen.
    pub org: String,
    pub keys: Vec<KeyRow>,
    /// The services the user's roles allow: the new key's checkboxes.
    pub services: Vec<Choice>,
    pub expiries: Vec<Choice>,
    /// How many personal keys the user has in the org, and the most they may have.
    pub personal_count: usize,
    pub personal_limit: usize,
    /// Whether the user manages the org's service keys (owners, user admins); then the scopes
    /// and entity types of the service-key form, and the org's count against its limit.
    pub manages_service_keys: bool,
    pub scopes: Vec<Choice>,
    pub entity_types: Vec<Choice>,
    pub service_count: usize,
    pub service_limit: usize,
    /// The user's legacy key (all their orgs), if they have one.
    pub legacy: Option<KeyRow>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// A key's secret, shown once, with the commands that use it.
#[derive(Template)]
#[template(path = "key_secret.html")]
pub struct KeySecret {
    pub chrome: Chrome,
    pub org: String,
    pub name: String,
    pub secret: String,
    /// "generated" or "rotated".
    pub done: String,
    /// The server's base URL (`https://hangar.example.com`) and registry host.
    pub base: String,
    pub host: String,
}

/// The header of every organization page: the org and its tabs (Profile, Users, Teams).
#[derive(Debug, Clone)]
pub struct OrgNav {
    pub org: String,
    pub display_name: String,
    pub tabs: Vec<Tab>,
}

/// A form's refusal, shown inside that form next to its fields (`form` names the form).
#[derive(Debug, Clone)]
pub struct Problem {
    pub form: &'static str,
    pub text: String,
}

impl Problem {
    /// Whether this problem belongs to `form`.
    pub fn is_for(&self, form: &str) -> bool {
        self.form == form
    }
}

/// Storage an org uses against its limit (Private Registry guide §7).
#[derive(Debug, Clone)]
pub struct StorageUse {
    pub label: String,
    pub used: String,
    pub limit: String,
    /// Used, in whole percent of the limit (at most 100, for the meter).
    pub percent: u64,
}

/// Organization → Profile (§2.4.6): display name and description, storage against the quotas,
/// the visitor's own roles.
#[derive(Template)]
#[template(path = "org_profile.html")]
pub struct OrgProfilePage {
    pub chrome: Chrome,
    pub nav: OrgNav,
    pub description: String,
    /// Whether the visitor may change the profile (owners).
    pub editable: bool,
    pub my_roles: Vec<String>,
    pub storage: Vec<StorageUse>,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// One member in the users table.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// Their roles, scope by scope: `Org: Registry Admin`, `vision: Registry Read`.
    pub roles: Vec<String>,
}

/// One pending invitation.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub roles: String,
    pub expires: String,
}

/// Organization → Users (§2.4.2–§2.4.4): the members with their roles (of the org or one
/// team), the invitation form and the pending invitations.
#[derive(Template)]
#[template(path = "org_users.html")]
pub struct OrgUsersPage {
    pub chrome: Chrome,
    pub nav: OrgNav,
    /// The team shown (empty: the whole org), and the menu that picks it.
    pub team: String,
    pub team_choices: Vec<Choice>,
    pub members: Vec<MemberRow>,
    /// Whether the visitor may invite and change members here; then the invitation form's
    /// scopes (the org and teams they manage users in) and the roles they may grant.
    pub manage: bool,
    pub invite_scopes: Vec<Choice>,
    pub invite_roles: Vec<Choice>,
    pub invite_email: String,
    pub invitations: Vec<InvitationRow>,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// A role checkbox at one scope.
#[derive(Debug, Clone)]
pub struct RoleBox {
    pub name: String,
    pub label: String,
    pub held: bool,
}

/// A member's roles at one scope (the org, or one team) and whether the visitor may change them.
#[derive(Debug, Clone)]
pub struct ScopeRoles {
    /// The team, or empty for the org.
    pub team: String,
    pub held: Vec<String>,
    /// The roles the visitor may grant here (checked when held); empty when they may not
    /// change this scope.
    pub boxes: Vec<RoleBox>,
}

/// One member's page (§2.4.3–§2.4.5): their roles at every scope, adding them to a team,
/// removing them.
#[derive(Template)]
#[template(path = "org_member.html")]
pub struct OrgMemberPage {
    pub chrome: Chrome,
    pub nav: OrgNav,
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub scopes: Vec<ScopeRoles>,
    /// Teams the member is not in yet that the visitor may add them to, and the roles they may
    /// grant there.
    pub add_teams: Vec<Choice>,
    pub add_roles: Vec<Choice>,
    /// Whether the visitor may remove the member from the org.
    pub removable: bool,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// One team in the teams table.
#[derive(Debug, Clone)]
pub struct TeamRow {
    pub name: String,
    pub description: String,
    pub members: usize,
}

/// Organization → Teams (§2.4.5): the teams, and for owners and user admins create, edit and
/// delete.
#[derive(Template)]
#[template(path = "org_teams.html")]
pub struct OrgTeamsPage {
    pub chrome: Chrome,
    pub nav: OrgNav,
    pub teams: Vec<TeamRow>,
    pub manage: bool,
    pub new_name: String,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// Organization → Signing (issue 18): the keys the org trusts, with their public parts, and
/// where pulls need a verified signature; owners and registry admins add and remove keys and
/// requirements.
#[derive(Template)]
#[template(path = "org_signing.html")]
pub struct OrgSigningPage {
    pub chrome: Chrome,
    pub nav: OrgNav,
    pub keys: Vec<PublicKeyRow>,
    pub requirements: Vec<RequirementRow>,
    /// The teams a requirement may be set for.
    pub teams: Vec<String>,
    pub manage: bool,
    /// What the add-key form had, when it was refused.
    pub new_name: String,
    pub new_pem: String,
    pub notice: Option<String>,
    pub problem: Option<Problem>,
}

/// Where pulls need a verified signature.
#[derive(Debug, Clone)]
pub struct RequirementRow {
    /// "Organization", "Team" or "Repository".
    pub kind: String,
    pub path: String,
    /// The form fields that name it: (`scope`, `name`).
    pub scope: String,
    pub name: String,
}

/// One field of a create or edit form.
#[derive(Debug, Clone, Default)]
pub struct FormField {
    /// The form field's name: the entity's NGC field (`displayName`).
    pub key: String,
    pub label: String,
    /// `text`, `select`, `labels` (comma-separated), `markdown` (with a preview) or `check`.
    pub widget: &'static str,
    pub value: String,
    /// A select's options (the value's one selected); a check box is ticked when `value` is `on`.
    pub options: Vec<Choice>,
    pub help: String,
    /// Why the server refused what was typed here; empty when it did not.
    pub error: String,
}

/// The creation hub (Private Registry guide §3.4, §4.2, §5.2, §6.3.2): what can be created.
#[derive(Template)]
#[template(path = "create_hub.html")]
pub struct CreateHub {
    pub chrome: Chrome,
    /// Each kind: its form, its name, what it is.
    pub kinds: Vec<(String, String, String)>,
}

/// Creating or editing a container repository, model, resource or Helm chart: its metadata,
/// refused fields marked with why.
#[derive(Template)]
#[template(path = "publish.html")]
pub struct PublishPage {
    pub chrome: Chrome,
    pub heading: String,
    pub action: String,
    /// Creating (the name and the org or team to create in are asked) or editing.
    pub creating: bool,
    pub spaces: Vec<Choice>,
    pub name: String,
    pub name_error: String,
    pub fields: Vec<FormField>,
    /// A refusal that is no one field's.
    pub error: String,
    pub submit: String,
    pub cancel: String,
}

/// A rendered Markdown preview (the overview's "Preview" button), swapped into the form.
#[derive(Template)]
#[template(path = "preview.html")]
pub struct Preview {
    pub html: String,
}

/// What the visitor may do to an entity page's entity: each empty when they may not.
#[derive(Debug, Clone, Default)]
pub struct Manage {
    pub edit: String,
    /// The remove form's action, and the name the confirmation box names.
    pub remove: String,
    pub confirm: String,
    /// The set-latest and remove-version forms' actions (a version or tag per row).
    pub latest: String,
    pub remove_version: String,
    pub upload: String,
    pub clone: String,
}

/// Upload a model or resource version from the browser (Private Registry guide §4.4, §5.4), or
/// clone one (§4.7): the version's information and metrics, the files, and the progress. The
/// script (`upload.js`) talks to the REST API and the data plane with `ngc`'s protocol.
#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    pub chrome: Chrome,
    /// "Model" or "Resource", and the entity's path and page.
    pub kind: String,
    pub path: String,
    pub page: String,
    /// The REST API paths the script calls: the entity's and its org's (or team's).
    pub entity_api: String,
    pub space_api: String,
    /// `models` or `resources`, and the JSON key of a version in the API's answers.
    pub artifact_type: String,
    pub version_key: String,
    pub name: String,
    pub part_size: i64,
    /// Versions that were started and not finished: offered to resume.
    pub pending: Vec<String>,
    /// Complete versions a new one may start from, the chosen base's selected.
    pub bases: Vec<Choice>,
    /// The chosen base's files (kept unless unticked).
    pub base_files: Vec<FileRow>,
    pub metric_tables: usize,
    pub metric_pairs: usize,
}

/// The creation hub's "Clone a version" (Private Registry guide §4.7, method 1): the versions of
/// models and resources the visitor may upload to, one to start from.
#[derive(Template)]
#[template(path = "clone_pick.html")]
pub struct ClonePick {
    pub chrome: Chrome,
    pub versions: Vec<Choice>,
}
