//! The routing tree built from the configuration's `route`, with Alertmanager's option
//! inheritance, depth-first matching with `continue`, and route keys/ids as Alertmanager
//! prints them (they appear in group keys).

use architect_model::{Label, Labels};

use crate::config::{ConfigError, RouteConfig};
use crate::matchers::{Matcher, format_matchers, matches_all};

/// Default group wait (30s), in ms.
pub const DEFAULT_GROUP_WAIT_MS: i64 = 30_000;
/// Default group interval (5m), in ms.
pub const DEFAULT_GROUP_INTERVAL_MS: i64 = 300_000;
/// Default repeat interval (4h), in ms.
pub const DEFAULT_REPEAT_INTERVAL_MS: i64 = 4 * 3_600_000;

/// One node of the routing tree with its effective (inherited) options.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Receiver for alerts that end at this route.
    pub receiver: String,
    /// Labels alerts are grouped by (when not `group_by_all`).
    pub group_by: Vec<String>,
    /// Group by all labels (`group_by: ['...']`).
    pub group_by_all: bool,
    /// The route's own matchers (legacy `match`/`match_re` included), sorted.
    pub matchers: Vec<Matcher>,
    /// Whether matching continues with the next sibling after this route matched.
    pub continue_: bool,
    /// Group wait, ms.
    pub group_wait_ms: i64,
    /// Group interval, ms.
    pub group_interval_ms: i64,
    /// Repeat interval, ms.
    pub repeat_interval_ms: i64,
    /// Names of time intervals muting this route (not inherited, as in Alertmanager).
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside of which this route is muted (not inherited).
    pub active_time_intervals: Vec<String>,
    /// Child routes.
    pub routes: Vec<Route>,
    key: String,
    id: String,
}

impl Route {
    /// Builds the tree rooted at `cfg` (the root gets Alertmanager's default options).
    pub fn new(cfg: &RouteConfig) -> Result<Route, ConfigError> {
        Route::build(cfg, None)
    }

    fn build(cfg: &RouteConfig, parent: Option<(&Route, usize)>) -> Result<Route, ConfigError> {
        let mut r = match parent {
            Some((p, _)) => Route {
                receiver: p.receiver.clone(),
                group_by: p.group_by.clone(),
                group_by_all: p.group_by_all,
                matchers: Vec::new(),
                continue_: false,
                group_wait_ms: p.group_wait_ms,
                group_interval_ms: p.group_interval_ms,
                repeat_interval_ms: p.repeat_interval_ms,
                mute_time_intervals: Vec::new(),
                active_time_intervals: Vec::new(),
                routes: Vec::new(),
                key: String::new(),
                id: String::new(),
            },
            None => Route {
                receiver: String::new(),
                group_by: Vec::new(),
                group_by_all: false,
                matchers: Vec::new(),
                continue_: false,
                group_wait_ms: DEFAULT_GROUP_WAIT_MS,
                group_interval_ms: DEFAULT_GROUP_INTERVAL_MS,
                repeat_interval_ms: DEFAULT_REPEAT_INTERVAL_MS,
                mute_time_intervals: Vec::new(),
                active_time_intervals: Vec::new(),
                routes: Vec::new(),
                key: String::new(),
                id: String::new(),
            },
        };
        if !cfg.receiver.is_empty() {
            r.receiver.clone_from(&cfg.receiver);
        }
        let explicit: Vec<String> = cfg
            .group_by
            .iter()
            .filter(|l| l.as_str() != "...")
            .cloned()
            .collect();
        if !explicit.is_empty() {
            let mut labels: Vec<String> = Vec::with_capacity(explicit.len());
            for l in explicit {
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
            r.group_by = labels;
            r.group_by_all = false;
        } else if cfg.group_by_all() {
            r.group_by_all = true;
        }
        if let Some(v) = cfg.group_wait {
            r.group_wait_ms = v;
        }
        if let Some(v) = cfg.group_interval {
            r.group_interval_ms = v;
        }
        if let Some(v) = cfg.repeat_interval {
            r.repeat_interval_ms = v;
        }
        r.matchers = cfg.all_matchers()?;
        r.continue_ = cfg.continue_;
        r.mute_time_intervals.clone_from(&cfg.mute_time_intervals);
        r.active_time_intervals
            .clone_from(&cfg.active_time_intervals);

        let own = format_matchers(&r.matchers);
        match parent {
            Some((p, idx)) => {
                r.key = format!("{}/{}", p.key, own);
                r.id = format!("{}/{}/{}", p.id, own, idx);
            }
            None => {
                r.key.clone_from(&own);
                r.id = own;
            }
        }
        let mut children = Vec::with_capacity(cfg.routes.len());
        for (i, child) in cfg.routes.iter().enumerate() {
            children.push(Route::build(child, Some((&r, i)))?);
        }
        r.routes = children;
        Ok(r)
    }

    /// The routes an alert with `labels` ends at: depth-first, the first matching child
    /// (and following siblings while matched ones have `continue`), or this route itself when
    /// no child matches. Empty when this route's matchers do not match.
    pub fn match_labels(&self, labels: &Labels) -> Vec<&Route> {
        let mut out = Vec::new();
        self.match_into(labels, &mut out);
        out
    }

    fn match_into<'a>(&'a self, labels: &Labels, out: &mut Vec<&'a Route>) -> bool {
        if !matches_all(&self.matchers, labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            let matched = child.match_into(labels, out);
            if matched && !child.continue_ {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// Alertmanager's `Route.Key()`: the matchers of every route from the root, joined by
    /// `/`, e.g. `{}/{env="prod"}`. Not unique in general.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Alertmanager's `Route.ID()`: like [`Route::key`], with each non-root route's index
    /// among its siblings appended, e.g. `{}/{env="prod"}/0`. Unique within a tree.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The labels alerts are grouped by at this route: the `group_by` labels present in
    /// `labels`, or all of them with `group_by: ['...']`.
    pub fn group_labels(&self, labels: &Labels) -> Labels {
        if self.group_by_all {
            return labels.clone();
        }
        Labels::from_sorted(
            labels
                .iter()
                .filter(|l| self.group_by.contains(&l.name))
                .map(|l| Label::new(l.name.clone(), l.value.clone()))
                .collect(),
        )
    }

    /// Visits this route and all descendants, depth-first, parents before children.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Route)) {
        visit(self);
        for child in &self.routes {
            child.walk(visit);
        }
    }

    /// All routes of the tree in [`Route::walk`] order.
    pub fn all_routes(&self) -> Vec<&Route> {
        let mut out = Vec::new();
        self.walk(&mut |r| out.push(r));
        out
    }

    /// The route with the given [`Route::id`], if any.
    pub fn find_by_id(&self, id: &str) -> Option<&Route> {
        self.all_routes().into_iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    // The routing tree of Alertmanager's dispatch/route_test.go.
    const TREE: &str = r#"
receiver: 'notify-def'

routes:
- match:
    owner: 'team-A'

  receiver: 'notify-A'

  routes:
  - match:
      env: 'testing'

    receiver: 'notify-testing'
    group_by: [...]

  - match:
      env: "production"

    receiver: 'notify-productionA'
    group_wait: 1m

    continue: true

  - match_re:
      env: "produ.*"
      job: ".*"

    receiver: 'notify-productionB'
    group_wait: 30s
    group_interval: 5m
    repeat_interval: 1h
    group_by: ['job']


- match_re:
    owner: 'team-(B|C)'

  group_by: ['foo', 'bar']
  group_wait: 2m
  receiver: 'notify-BC'

- match:
    group_by: 'role'
  group_by: ['role']

  routes:
  - match:
      env: 'testing'
    receiver: 'notify-testing'
    routes:
    - match:
        wait: 'long'
      group_wait: 2m
"#;

    fn tree() -> Route {
        let cfg: RouteConfig = serde_yaml_ng::from_str(TREE).unwrap();
        Route::new(&cfg).unwrap()
    }

    struct Want {
        receiver: &'static str,
        group_by: &'static [&'static str],
        group_by_all: bool,
        group_wait_ms: i64,
        group_interval_ms: i64,
        repeat_interval_ms: i64,
    }

    const fn w(
        receiver: &'static str,
        group_by: &'static [&'static str],
        group_by_all: bool,
        group_wait_ms: i64,
        repeat_interval_ms: i64,
    ) -> Want {
        Want {
            receiver,
            group_by,
            group_by_all,
            group_wait_ms,
            group_interval_ms: 300_000,
            repeat_interval_ms,
        }
    }

    #[test]
    fn match_cases_from_alertmanager() {
        let t = tree();
        let h4 = 4 * 3_600_000;
        type Case = (
            Vec<(&'static str, &'static str)>,
            Vec<Want>,
            Vec<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                vec![("owner", "team-A")],
                vec![w("notify-A", &[], false, 30_000, h4)],
                vec![r#"{}/{owner="team-A"}"#],
            ),
            (
                vec![("owner", "team-A"), ("env", "unset")],
                vec![w("notify-A", &[], false, 30_000, h4)],
                vec![r#"{}/{owner="team-A"}"#],
            ),
            (
                vec![("owner", "team-C")],
                vec![w("notify-BC", &["foo", "bar"], false, 120_000, h4)],
                vec![r#"{}/{owner=~"team-(B|C)"}"#],
            ),
            (
                vec![("owner", "team-A"), ("env", "testing")],
                vec![w("notify-testing", &[], true, 30_000, h4)],
                vec![r#"{}/{owner="team-A"}/{env="testing"}"#],
            ),
            (
                vec![("owner", "team-A"), ("env", "production")],
                vec![
                    w("notify-productionA", &[], false, 60_000, h4),
                    w("notify-productionB", &["job"], false, 30_000, 3_600_000),
                ],
                vec![
                    r#"{}/{owner="team-A"}/{env="production"}"#,
                    r#"{}/{owner="team-A"}/{env=~"produ.*",job=~".*"}"#,
                ],
            ),
            (
                vec![("group_by", "role")],
                vec![w("notify-def", &["role"], false, 30_000, h4)],
                vec![r#"{}/{group_by="role"}"#],
            ),
            (
                vec![("env", "testing"), ("group_by", "role")],
                vec![w("notify-testing", &["role"], false, 30_000, h4)],
                vec![r#"{}/{group_by="role"}/{env="testing"}"#],
            ),
            (
                vec![("env", "testing"), ("group_by", "role"), ("wait", "long")],
                vec![w("notify-testing", &["role"], false, 120_000, h4)],
                vec![r#"{}/{group_by="role"}/{env="testing"}/{wait="long"}"#],
            ),
            (
                vec![("owner", "nobody")],
                vec![w("notify-def", &[], false, 30_000, h4)],
                vec!["{}"],
            ),
        ];
        for (labels, want, keys) in cases {
            let ls = Labels::from_pairs(labels.clone());
            let got = t.match_labels(&ls);
            assert_eq!(got.len(), want.len(), "{labels:?}");
            for ((g, w), k) in got.iter().zip(&want).zip(&keys) {
                assert_eq!(g.receiver, w.receiver, "{labels:?}");
                assert_eq!(g.group_by, w.group_by, "{labels:?}");
                assert_eq!(g.group_by_all, w.group_by_all, "{labels:?}");
                assert_eq!(g.group_wait_ms, w.group_wait_ms, "{labels:?}");
                assert_eq!(g.group_interval_ms, w.group_interval_ms, "{labels:?}");
                assert_eq!(g.repeat_interval_ms, w.repeat_interval_ms, "{labels:?}");
                assert_eq!(g.key(), *k, "{labels:?}");
            }
        }
    }

    #[test]
    fn ids_have_sibling_indexes() {
        let t = tree();
        let ids: Vec<&str> = t.all_routes().iter().map(|r| r.id()).collect();
        assert_eq!(
            ids,
            vec![
                "{}",
                r#"{}/{owner="team-A"}/0"#,
                r#"{}/{owner="team-A"}/0/{env="testing"}/0"#,
                r#"{}/{owner="team-A"}/0/{env="production"}/1"#,
                r#"{}/{owner="team-A"}/0/{env=~"produ.*",job=~".*"}/2"#,
                r#"{}/{owner=~"team-(B|C)"}/1"#,
                r#"{}/{group_by="role"}/2"#,
                r#"{}/{group_by="role"}/2/{env="testing"}/0"#,
                r#"{}/{group_by="role"}/2/{env="testing"}/0/{wait="long"}/0"#,
            ]
        );
        assert!(t.find_by_id(r#"{}/{owner=~"team-(B|C)"}/1"#).is_some());
    }

    #[test]
    fn group_labels_and_inheritance() {
        let c = parse_config(
            "route:\n  receiver: a\n  group_by: ['...']\n  routes:\n  - matchers: ['x=\"1\"']\n    group_by: [job]\n    routes:\n    - matchers: [y=2]\n  - matchers: [z=3]\nreceivers:\n- name: a\n",
        )
        .unwrap();
        let t = Route::new(&c.route).unwrap();
        let ls = Labels::from_pairs([("x", "1"), ("job", "j"), ("y", "2"), ("other", "o")]);
        let got = t.match_labels(&ls);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key(), r#"{}/{x="1"}/{y="2"}"#);
        assert_eq!(got[0].group_labels(&ls), Labels::from_pairs([("job", "j")]));
        let root_only = Labels::from_pairs([("a", "1")]);
        let got = t.match_labels(&root_only);
        assert_eq!(got[0].key(), "{}");
        assert_eq!(got[0].group_labels(&root_only), root_only);
        // The `...` of the root is inherited where not overridden.
        let z = t.match_labels(&Labels::from_pairs([("z", "3"), ("q", "w")]));
        assert!(z[0].group_by_all);
        // Missing group_by labels are left out.
        let r = &t.routes[0];
        assert_eq!(r.group_labels(&root_only), Labels::default());
    }

    #[test]
    fn mute_intervals_are_not_inherited() {
        let c = parse_config(
            "time_intervals:\n- name: nights\n  time_intervals:\n  - times: [{start_time: '00:00', end_time: '06:00'}]\nroute:\n  receiver: a\n  routes:\n  - matchers: [x=1]\n    mute_time_intervals: [nights]\n    routes:\n    - matchers: [y=2]\nreceivers:\n- name: a\n",
        )
        .unwrap();
        let t = Route::new(&c.route).unwrap();
        assert_eq!(t.routes[0].mute_time_intervals, vec!["nights"]);
        assert!(t.routes[0].routes[0].mute_time_intervals.is_empty());
    }
}
