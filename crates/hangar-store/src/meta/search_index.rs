//! The search index each process keeps in memory, which [`super::MetaStore::search`] answers
//! from. The database's catalog entries stay the truth: the index is a copy brought up to date
//! before every search with what was written or removed since the `catalog_version` it last
//! loaded, so every replica's answer holds every write committed before the search began.
//!
//! Entries live in slots; every set of entries is a roaring bitmap of slots (one per kind,
//! access level, org, team, path, facet value and text term), and a search is a few
//! intersections and unions of them, then facet counts over the result.

use super::search::{FACET_FIELDS, Facet, Place, Sort, Viewer};
use roaring::RoaringBitmap;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How much a word counts where it is found: in the name most, in the description least.
const NAME: f32 = 10.0;
const DISPLAY_NAME: f32 = 8.0;
const LABELS: f32 = 4.0;
const PUBLISHER: f32 = 4.0;
const DESCRIPTION: f32 = 2.0;

/// Levels listed to everyone; `EXCLUSIVE` is listed to subscribers only, `PRIVATE` to its org.
const LISTED: [&str; 4] = ["GUEST", "AUTHENTICATED", "ENTITLED", "APPROVAL"];

/// An entry as the database holds it.
pub(super) struct Row {
    pub id: i64,
    pub kind: String,
    pub org: String,
    pub team: Option<String>,
    pub resource_id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub publisher: String,
    /// Space-separated, as stored.
    pub labels: String,
    pub access: String,
    pub modified_at: i64,
    pub facets: Vec<(String, String)>,
}

/// A set of entries the index keeps a bitmap of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Group {
    Kind(String),
    Access(String),
    Org(String),
    /// An org's entities that belong to no team.
    OrgRoot(String),
    Team(String, String),
    Path(String),
}

/// What the index keeps of an entry: enough to remove it again, match a glob, sort and score.
struct Doc {
    id: i64,
    /// Group ids.
    groups: Box<[u32]>,
    resource_id: Box<str>,
    name: Box<str>,
    modified_at: i64,
    /// Facet ids.
    facets: Box<[u32]>,
    /// Term ids with the weight of the best field each is found in.
    terms: Box<[(u32, f32)]>,
}

/// A search, with what the store has already looked up for it.
pub(super) struct Query<'a> {
    pub kind: &'a str,
    pub words: &'a [String],
    pub glob: Option<&'a str>,
    pub filters: &'a [(String, Vec<String>)],
    pub place: &'a Place,
    pub viewer: &'a Viewer,
    /// Products that the viewer's orgs have live subscriptions to.
    pub subscribed: &'a [String],
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

pub(super) struct Answer {
    pub total: u64,
    /// Entry ids of the page, in order.
    pub ids: Vec<i64>,
    pub facets: Vec<Facet>,
    /// The page's labels and products, by (entry id, `labels` or `productNames`), sorted.
    pub lists: BTreeMap<(i64, String), Vec<String>>,
}

#[derive(Default)]
pub(super) struct Index {
    /// The `catalog_version` loaded.
    pub version: i64,
    slots: HashMap<i64, u32>,
    docs: Vec<Option<Doc>>,
    free: Vec<u32>,
    group_ids: HashMap<Group, u32>,
    groups: Vec<RoaringBitmap>,
    facet_ids: HashMap<(String, String), u32>,
    /// By facet id: its position in FACET_FIELDS (None: not a reported field), its value and
    /// its entries.
    facets: Vec<(Option<usize>, String, RoaringBitmap)>,
    /// By position in FACET_FIELDS: the facet ids of that field.
    field_values: Vec<Vec<u32>>,
    term_ids: BTreeMap<String, u32>,
    terms: Vec<RoaringBitmap>,
}

/// Words of a text, letters and digits only, lowercased.
pub(super) fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether `text` matches a `*`/`?` glob, ASCII letters in any case.
fn glob_matches(glob: &[u8], text: &[u8]) -> bool {
    // Iterative wildcard matching: on a mismatch, go back to the last `*` and let it take one
    // more byte.
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some(b'*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&text[t]) => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    g = sg + 1;
                    t = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

fn union<'a>(sets: impl Iterator<Item = &'a RoaringBitmap>) -> RoaringBitmap {
    let mut out = RoaringBitmap::new();
    for set in sets {
        out |= set;
    }
    out
}

/// The first `offset + limit` keys in order, then the page of them.
fn page<K: Ord>(mut keyed: Vec<(K, i64)>, offset: usize, limit: usize) -> Vec<i64> {
    let end = offset.saturating_add(limit).min(keyed.len());
    if offset >= end {
        return vec![];
    }
    if end < keyed.len() {
        keyed.select_nth_unstable(end - 1);
        keyed.truncate(end);
    }
    keyed.sort_unstable();
    keyed.drain(offset..).map(|(_, id)| id).collect()
}

impl Index {
    /// Takes in entries written.
    pub fn write(&mut self, written: Vec<Row>) {
        for row in written {
            self.remove(row.id);
            self.insert(row);
        }
    }

    /// Takes out entries removed, and records that everything up to `version` is in.
    pub fn finish(&mut self, removed: &[i64], version: i64) {
        for id in removed {
            self.remove(*id);
        }
        self.version = self.version.max(version);
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    fn remove(&mut self, id: i64) {
        let Some(slot) = self.slots.remove(&id) else { return };
        let Some(doc) = self.docs[slot as usize].take() else {
            return;
        };
        for group in &doc.groups {
            self.groups[*group as usize].remove(slot);
        }
        for facet in &doc.facets {
            self.facets[*facet as usize].2.remove(slot);
        }
        for (term, _) in &doc.terms {
            self.terms[*term as usize].remove(slot);
        }
        self.free.push(slot);
    }

    fn insert(&mut self, row: Row) {
        let slot = self.free.pop().unwrap_or(self.docs.len() as u32);
        let mut groups = vec![
            Group::Kind(row.kind),
            Group::Access(row.access),
            Group::Org(row.org.clone()),
            Group::Path(row.resource_id.clone()),
        ];
        groups.push(match row.team {
            Some(team) => Group::Team(row.org, team),
            None => Group::OrgRoot(row.org),
        });
        let groups: Vec<u32> = groups
            .into_iter()
            .map(|group| {
                let next = self.groups.len() as u32;
                let id = *self.group_ids.entry(group).or_insert(next);
                if id == next {
                    self.groups.push(RoaringBitmap::new());
                }
                self.groups[id as usize].insert(slot);
                id
            })
            .collect();
        let mut facets = vec![];
        for key in row.facets {
            let next = self.facets.len() as u32;
            let id = *self.facet_ids.entry(key.clone()).or_insert(next);
            if id == next {
                let field = FACET_FIELDS.iter().position(|f| *f == key.0);
                if let Some(field) = field {
                    self.field_values.resize(FACET_FIELDS.len(), vec![]);
                    self.field_values[field].push(id);
                }
                self.facets.push((field, key.1, RoaringBitmap::new()));
            }
            self.facets[id as usize].2.insert(slot);
            facets.push(id);
        }
        let mut weights: HashMap<String, f32> = HashMap::new();
        for (text, weight) in [
            (&row.name, NAME),
            (&row.display_name, DISPLAY_NAME),
            (&row.labels, LABELS),
            (&row.publisher, PUBLISHER),
            (&row.description, DESCRIPTION),
        ] {
            for token in tokens(text) {
                let best = weights.entry(token).or_insert(weight);
                *best = best.max(weight);
            }
        }
        let mut terms = vec![];
        for (token, weight) in weights {
            let next = self.terms.len() as u32;
            let id = *self.term_ids.entry(token).or_insert(next);
            if id == next {
                self.terms.push(RoaringBitmap::new());
            }
            self.terms[id as usize].insert(slot);
            terms.push((id, weight));
        }
        let doc = Doc {
            id: row.id,
            groups: groups.into(),
            resource_id: row.resource_id.into(),
            name: row.name.into(),
            modified_at: row.modified_at,
            facets: facets.into(),
            terms: terms.into(),
        };
        if slot as usize == self.docs.len() {
            self.docs.push(Some(doc));
        } else {
            self.docs[slot as usize] = Some(doc);
        }
        self.slots.insert(row.id, slot);
    }

    fn group_set(&self, group: &Group) -> Option<&RoaringBitmap> {
        self.group_ids.get(group).map(|id| &self.groups[*id as usize])
    }

    fn group(&self, group: Group) -> RoaringBitmap {
        self.group_set(&group).cloned().unwrap_or_default()
    }

    fn doc(&self, slot: u32) -> &Doc {
        self.docs[slot as usize]
            .as_ref()
            .expect("a slot in a set holds an entry")
    }

    /// The entries with any of `values` for `field`.
    fn facet_set(&self, field: &str, values: &[String]) -> RoaringBitmap {
        union(
            values
                .iter()
                .filter_map(|v| self.facet_ids.get(&(field.to_string(), v.clone())))
                .map(|id| &self.facets[*id as usize].2),
        )
    }

    fn subscribed(&self, products: &[String]) -> RoaringBitmap {
        self.facet_set("productNames", products)
    }

    /// What the viewer may see: listed levels, exclusive entries it subscribes to, its scopes.
    fn visible(&self, viewer: &Viewer, subscribed: &RoaringBitmap) -> RoaringBitmap {
        let mut visible = union(
            LISTED
                .iter()
                .filter_map(|l| self.group_set(&Group::Access(l.to_string()))),
        );
        visible |= self.group(Group::Access("EXCLUSIVE".into())) & subscribed;
        for scope in &viewer.scopes {
            let mut set = match &scope.team {
                Some(team) => self.group(Group::Team(scope.org.clone(), team.clone())),
                None => self.group(Group::Org(scope.org.clone())),
            };
            if let Some(entity) = &scope.entity {
                set &= self.group(Group::Path(entity.clone()));
            }
            visible |= set;
        }
        visible
    }

    /// The entries matching every word as a prefix of some term, with each word's idf and the
    /// terms it matched (for scoring).
    fn text(&self, words: &[String], within: &mut RoaringBitmap) -> Vec<(f32, HashSet<u32>)> {
        let total = self.len().max(1) as f32;
        let mut matched = vec![];
        for word in words {
            let ids: HashSet<u32> = self
                .term_ids
                .range(word.clone()..)
                .take_while(|(term, _)| term.starts_with(word.as_str()))
                .map(|(_, id)| *id)
                .collect();
            let set = union(ids.iter().map(|id| &self.terms[*id as usize]));
            let found = set.len() as f32;
            *within &= set;
            let idf = (1.0 + (total - found + 0.5) / (found + 0.5)).ln();
            matched.push((idf, ids));
        }
        matched
    }

    pub fn search(&self, query: &Query) -> Answer {
        let mut base = self.group(Group::Kind(query.kind.to_string()));
        let matched = self.text(query.words, &mut base);
        if let Some(glob) = query.glob {
            let glob = glob.as_bytes();
            base = base
                .iter()
                .filter(|slot| glob_matches(glob, self.doc(*slot).resource_id.as_bytes()))
                .collect();
        }
        let subscribed = self.subscribed(query.subscribed);
        match query.place {
            Place::Catalog => {}
            Place::Org { org, team } => {
                base &= self.group(Group::Org(org.clone()));
                if let Some(team) = team {
                    base &=
                        self.group(Group::OrgRoot(org.clone())) | self.group(Group::Team(org.clone(), team.clone()));
                }
            }
            Place::Subscribed => {
                let gated =
                    self.group(Group::Access("ENTITLED".into())) | self.group(Group::Access("EXCLUSIVE".into()));
                base &= gated & &subscribed;
            }
        }
        if !query.viewer.everything {
            base &= self.visible(query.viewer, &subscribed);
        }
        let filters: Vec<(&str, RoaringBitmap)> = query
            .filters
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(field, values)| (field.as_str(), self.facet_set(field, values)))
            .collect();
        let passing = |skip: Option<usize>| {
            let mut set = base.clone();
            for (i, (_, filter)) in filters.iter().enumerate() {
                if Some(i) != skip {
                    set &= filter;
                }
            }
            set
        };
        let all = passing(None);
        let facets = FACET_FIELDS
            .iter()
            .enumerate()
            .filter_map(|(position, field)| {
                // A field's counts apply every filter but its own.
                let own: Vec<usize> = (0..filters.len()).filter(|i| filters[*i].0 == *field).collect();
                let set = if own.is_empty() {
                    all.clone()
                } else {
                    union(own.iter().map(|i| passing(Some(*i))).collect::<Vec<_>>().iter())
                };
                self.count(position, field, &set)
            })
            .collect();
        let ids = self.order(&all, &matched, query);
        let lists = self.lists(&ids);
        Answer {
            total: all.len(),
            ids,
            facets,
            lists,
        }
    }

    /// The labels and products of entries `ids`, sorted.
    fn lists(&self, ids: &[i64]) -> BTreeMap<(i64, String), Vec<String>> {
        let mut lists: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for field in ["labels", "productNames"] {
            let position = FACET_FIELDS.iter().position(|f| *f == field);
            for id in ids {
                let Some(slot) = self.slots.get(id) else { continue };
                let mut values: Vec<String> = self
                    .doc(*slot)
                    .facets
                    .iter()
                    .map(|facet| &self.facets[*facet as usize])
                    .filter(|(at, _, _)| *at == position)
                    .map(|(_, value, _)| value.clone())
                    .collect();
                if !values.is_empty() {
                    values.sort();
                    lists.insert((*id, field.to_string()), values);
                }
            }
        }
        lists
    }

    /// The values of one facet field among `set`, by count, most first.
    fn count(&self, position: usize, field: &str, set: &RoaringBitmap) -> Option<Facet> {
        let values = self.field_values.get(position)?;
        let mut counts: Vec<(String, i64)> = if (set.len() as usize) < values.len() {
            // Fewer entries than values: count through the entries.
            let mut by_id: BTreeMap<u32, i64> = BTreeMap::new();
            for slot in set {
                for facet in &self.doc(slot).facets {
                    if self.facets[*facet as usize].0 == Some(position) {
                        *by_id.entry(*facet).or_default() += 1;
                    }
                }
            }
            by_id
                .into_iter()
                .map(|(id, n)| (self.facets[id as usize].1.clone(), n))
                .collect()
        } else {
            values
                .iter()
                .map(|id| &self.facets[*id as usize])
                .map(|(_, value, entries)| (value, set.intersection_len(entries) as i64))
                .filter(|(_, n)| *n > 0)
                .map(|(value, n)| (value.clone(), n))
                .collect()
        };
        if counts.is_empty() {
            return None;
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Some(Facet {
            field: field.to_string(),
            values: counts,
        })
    }

    /// The page of `set` in the asked order (ties by entry id).
    fn order(&self, set: &RoaringBitmap, matched: &[(f32, HashSet<u32>)], query: &Query) -> Vec<i64> {
        let docs = set.iter().map(|slot| self.doc(slot));
        let (offset, limit) = (query.offset, query.limit);
        match query.sort {
            Sort::Relevance if !matched.is_empty() => {
                let score = |doc: &Doc| -> f32 {
                    matched
                        .iter()
                        .map(|(idf, terms)| {
                            let best = doc
                                .terms
                                .iter()
                                .filter(|(term, _)| terms.contains(term))
                                .map(|(_, weight)| *weight)
                                .fold(0.0, f32::max);
                            idf * best
                        })
                        .sum()
                };
                // Scores are never negative, so their bits order as they do.
                page(
                    docs.map(|d| ((Reverse(score(d).to_bits()), d.id), d.id)).collect(),
                    offset,
                    limit,
                )
            }
            Sort::Modified => page(
                docs.map(|d| ((Reverse(d.modified_at), d.id), d.id)).collect(),
                offset,
                limit,
            ),
            Sort::Name => page(docs.map(|d| ((&*d.name, d.id), d.id)).collect(), offset, limit),
            _ => page(docs.map(|d| ((&*d.resource_id, d.id), d.id)).collect(), offset, limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches(b"acme/*", b"acme/team/x"));
        assert!(glob_matches(b"ACME/?", b"acme/x"));
        assert!(!glob_matches(b"acme/?", b"acme/xy"));
        assert!(glob_matches(b"*m*l*", b"acme/model"));
        assert!(!glob_matches(b"*z*", b"acme/model"));
        assert!(glob_matches(b"", b""));
        assert!(!glob_matches(b"", b"a"));
    }

    #[test]
    fn pages_in_order() {
        let keyed: Vec<(i64, i64)> = (0..10).rev().map(|i| (i, i)).collect();
        assert_eq!(page(keyed.clone(), 2, 3), [2, 3, 4]);
        assert_eq!(page(keyed.clone(), 8, 5), [8, 9]);
        assert!(page(keyed, 10, 5).is_empty());
    }
}
