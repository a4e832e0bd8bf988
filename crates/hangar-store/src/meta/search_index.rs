//! The search index each process keeps in memory, which [`super::MetaStore::search`] answers
//! from. The database's catalog entries stay the truth: the index is a copy brought up to date
//! before every search with what was written or removed since the `catalog_version` it last
//! loaded, so every replica's answer holds every write committed before the search began.
//!
//! Entries live in slots; every set of entries is a roaring bitmap of slots (one per kind,
//! access level, org, team, path, facet value and text term), and a search is a few
//! intersections and unions of them, then facet counts over the result.

use super::search::{FACET_FIELDS, Facet, Place, SearchEntry, Sort, Viewer};
use hangar_core::access::AccessLevel;
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
    pub access: AccessLevel,
    pub signed: bool,
    /// NGC's `attributes` as stored: a JSON array, already checked to parse.
    pub attributes: String,
    pub created_at: i64,
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

/// What the index keeps of an entry: enough to remove it again, match a glob, sort, score and
/// show it on a result page (so a search needs no second query for its page).
struct Doc {
    id: i64,
    /// Group ids.
    groups: Box<[u32]>,
    kind: Box<str>,
    org: Box<str>,
    team: Option<Box<str>>,
    resource_id: Box<str>,
    name: Box<str>,
    display_name: Box<str>,
    description: Box<str>,
    access: AccessLevel,
    signed: bool,
    attributes: Box<str>,
    created_at: i64,
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
    /// The page, in order.
    pub entries: Vec<SearchEntry>,
    pub facets: Vec<Facet>,
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
    /// How many (entry, facet value) pairs there are.
    facet_links: usize,
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
fn page<K: Ord, V: Ord>(mut keyed: Vec<(K, V)>, offset: usize, limit: usize) -> Vec<V> {
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
        self.facet_links -= doc.facets.len();
        for (term, _) in &doc.terms {
            self.terms[*term as usize].remove(slot);
        }
        self.free.push(slot);
    }

    fn insert(&mut self, row: Row) {
        let slot = self.free.pop().unwrap_or(self.docs.len() as u32);
        let mut groups = vec![
            Group::Kind(row.kind.clone()),
            Group::Access(row.access.word().to_string()),
            Group::Org(row.org.clone()),
            Group::Path(row.resource_id.clone()),
        ];
        groups.push(match &row.team {
            Some(team) => Group::Team(row.org.clone(), team.clone()),
            None => Group::OrgRoot(row.org.clone()),
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
        self.facet_links += facets.len();
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
            kind: row.kind.into(),
            org: row.org.into(),
            team: row.team.map(Into::into),
            resource_id: row.resource_id.into(),
            name: row.name.into(),
            display_name: row.display_name.into(),
            description: row.description.into(),
            access: row.access,
            signed: row.signed,
            attributes: row.attributes.into(),
            created_at: row.created_at,
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
        // Every filter but those of field `skip`.
        let passing = |skip: &str| {
            let mut set = base.clone();
            for (_, filter) in filters.iter().filter(|(field, _)| *field != skip) {
                set &= filter;
            }
            set
        };
        let all = passing("");
        // A field's counts apply every filter but its own: the fields without a filter share
        // `all`, and each field with one gets its own set.
        let mut sets: Vec<(RoaringBitmap, Vec<usize>)> = vec![(all.clone(), vec![])];
        for (position, field) in FACET_FIELDS.iter().enumerate() {
            if filters.iter().any(|(f, _)| f == field) {
                sets.push((passing(field), vec![position]));
            } else {
                sets[0].1.push(position);
            }
        }
        let mut counted: Vec<Option<Facet>> = vec![None; FACET_FIELDS.len()];
        for (set, fields) in &sets {
            for (position, counts) in self.count(set, fields) {
                counted[position] = Some(Facet {
                    field: FACET_FIELDS[position].to_string(),
                    values: counts,
                });
            }
        }
        let facets = counted.into_iter().flatten().collect();
        let entries = self
            .order(&all, &matched, query)
            .into_iter()
            .map(|slot| self.entry(self.doc(slot)))
            .collect();
        Answer {
            total: all.len(),
            entries,
            facets,
        }
    }

    /// An entry as a result page shows it.
    fn entry(&self, doc: &Doc) -> SearchEntry {
        SearchEntry {
            kind: doc.kind.to_string(),
            resource_id: doc.resource_id.to_string(),
            name: doc.name.to_string(),
            org: doc.org.to_string(),
            team: doc.team.as_deref().map(str::to_string),
            display_name: doc.display_name.to_string(),
            description: doc.description.to_string(),
            labels: self.values_of(doc, "labels"),
            products: self.values_of(doc, "productNames"),
            access: doc.access,
            signed: doc.signed,
            // Checked to parse when it was loaded.
            attributes: serde_json::from_str(&doc.attributes).unwrap_or_default(),
            created_at: doc.created_at,
            modified_at: doc.modified_at,
        }
    }

    /// An entry's values of one facet field, sorted.
    fn values_of(&self, doc: &Doc, field: &str) -> Vec<String> {
        let position = FACET_FIELDS.iter().position(|f| *f == field);
        let mut values: Vec<String> = doc
            .facets
            .iter()
            .map(|facet| &self.facets[*facet as usize])
            .filter(|(at, _, _)| *at == position)
            .map(|(_, value, _)| value.clone())
            .collect();
        values.sort();
        values
    }

    /// The values of facet fields `fields` (positions in FACET_FIELDS) among `set`, each by
    /// count, most first; fields with no value there are left out.
    fn count(&self, set: &RoaringBitmap, fields: &[usize]) -> Vec<(usize, Vec<(String, i64)>)> {
        let values: u64 = fields
            .iter()
            .filter_map(|f| self.field_values.get(*f))
            .map(|v| v.len() as u64)
            .sum();
        // Either one pass over the entries, tallying every facet they have, or one bitmap
        // intersection per value, which costs up to a 1,024-word container per 65,536 slots.
        let per_entry = self.facet_links / self.len().max(1) + 1;
        let containers = (self.docs.len() >> 16) as u64 + 1;
        let tally_cost = set.len() * per_entry as u64;
        let intersect_cost = values * set.len().min(1024 * containers);
        self.count_by(set, fields, tally_cost <= intersect_cost)
    }

    /// [`Self::count`] by tallying the entries of `set` (`tally`) or by bitmap intersections.
    fn count_by(&self, set: &RoaringBitmap, fields: &[usize], tally: bool) -> Vec<(usize, Vec<(String, i64)>)> {
        let values: Vec<&[u32]> = fields
            .iter()
            .map(|f| self.field_values.get(*f).map_or(&[][..], Vec::as_slice))
            .collect();
        let count_of: Box<dyn Fn(u32) -> u64> = if tally {
            let mut tally = vec![0u32; self.facets.len()];
            for slot in set {
                for facet in &self.doc(slot).facets {
                    tally[*facet as usize] += 1;
                }
            }
            Box::new(move |facet| u64::from(tally[facet as usize]))
        } else {
            Box::new(|facet| set.intersection_len(&self.facets[facet as usize].2))
        };
        let mut out = vec![];
        for (field, values) in fields.iter().zip(values) {
            let mut counts: Vec<(String, i64)> = values
                .iter()
                .map(|id| (*id, count_of(*id)))
                .filter(|(_, n)| *n > 0)
                .map(|(id, n)| (self.facets[id as usize].1.clone(), n as i64))
                .collect();
            if !counts.is_empty() {
                counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                out.push((*field, counts));
            }
        }
        out
    }

    /// The slots of the page of `set` in the asked order (ties by entry id).
    fn order(&self, set: &RoaringBitmap, matched: &[(f32, HashSet<u32>)], query: &Query) -> Vec<u32> {
        let docs = set.iter().map(|slot| (slot, self.doc(slot)));
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
                    docs.map(|(s, d)| ((Reverse(score(d).to_bits()), d.id), s)).collect(),
                    offset,
                    limit,
                )
            }
            Sort::Modified => page(
                docs.map(|(s, d)| ((Reverse(d.modified_at), d.id), s)).collect(),
                offset,
                limit,
            ),
            Sort::Name => page(docs.map(|(s, d)| ((&*d.name, d.id), s)).collect(), offset, limit),
            _ => page(docs.map(|(s, d)| ((&*d.resource_id, d.id), s)).collect(), offset, limit),
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

    fn row(id: i64, access: AccessLevel, labels: &[&str], publisher: &str) -> Row {
        let mut facets = vec![
            ("accessLevel".to_string(), access.word().to_string()),
            ("publisher".to_string(), publisher.to_string()),
        ];
        facets.extend(labels.iter().map(|l| ("labels".to_string(), l.to_string())));
        Row {
            id,
            kind: "MODEL".into(),
            org: "acme".into(),
            team: None,
            resource_id: format!("acme/m{id}"),
            name: format!("m{id}"),
            display_name: String::new(),
            description: String::new(),
            publisher: publisher.into(),
            labels: labels.join(" "),
            access,
            signed: false,
            attributes: "[]".into(),
            created_at: 0,
            modified_at: 0,
            facets,
        }
    }

    #[test]
    fn facet_counts_agree_both_ways() {
        let mut index = Index::default();
        let labels = ["a", "b", "c", "d"];
        index.write(
            (0..300)
                .map(|i| {
                    let access = [AccessLevel::Guest, AccessLevel::Entitled, AccessLevel::Private][i % 3];
                    let mine: Vec<&str> = labels.iter().copied().filter(|_| i % 7 != 0).take(1 + i % 4).collect();
                    row(i as i64, access, &mine, ["nvidia", "acme"][i % 2])
                })
                .collect(),
        );
        let fields: Vec<usize> = (0..FACET_FIELDS.len()).collect();
        for set in [
            RoaringBitmap::new(),
            (0..300u32).collect(),
            (0..300u32).step_by(5).collect(),
            (100..130u32).collect(),
        ] {
            let tallied = index.count_by(&set, &fields, true);
            assert_eq!(tallied, index.count_by(&set, &fields, false));
            let total: i64 = tallied
                .iter()
                .filter(|(f, _)| FACET_FIELDS[*f] == "accessLevel")
                .flat_map(|(_, counts)| counts.iter().map(|(_, n)| n))
                .sum();
            assert_eq!(total, set.len() as i64, "each entry has one access level");
        }
        // Removing entries takes them out of both ways of counting.
        index.finish(&(0..150).collect::<Vec<i64>>(), 1);
        let set: RoaringBitmap = (0..300u32).filter(|s| index.docs[*s as usize].is_some()).collect();
        assert_eq!(set.len(), 150);
        assert_eq!(
            index.count_by(&set, &fields, true),
            index.count_by(&set, &fields, false)
        );
    }

    #[test]
    fn pages_in_order() {
        let keyed: Vec<(i64, i64)> = (0..10).rev().map(|i| (i, i)).collect();
        assert_eq!(page(keyed.clone(), 2, 3), [2, 3, 4]);
        assert_eq!(page(keyed.clone(), 8, 5), [8, 9]);
        assert!(page(keyed, 10, 5).is_empty());
    }
}
