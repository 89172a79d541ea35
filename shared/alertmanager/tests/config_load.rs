//! Configuration loading cases ported from Alertmanager 0.25's `config/config_test.go`, using
//! its `testdata` files.
#![allow(clippy::unwrap_used)]

use architect_alertmanager::config::{Config, ConfigError, HostPort, parse_config};
use architect_alertmanager::route::Route;

/// This crate's directory: the runtime `CARGO_MANIFEST_DIR` (set by cargo and nextest) first,
/// since a test binary reused from a shared target directory may have been built in another
/// checkout, whose path the compile-time value holds.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())
}

fn load_file(name: &str) -> Result<Config, ConfigError> {
    let path = format!("{}/testdata/{name}", manifest_dir());
    let text = std::fs::read_to_string(&path).unwrap();
    parse_config(&text)
}

fn expect_err(input: &str, want: &str) {
    match parse_config(input) {
        Ok(_) => panic!("no error, expected {want:?} for:\n{input}"),
        Err(e) => assert_eq!(e.to_string(), want, "input:\n{input}"),
    }
}

#[test]
fn error_cases() {
    let cases: &[(&str, &str)] = &[
        ("", "no route provided in config"),
        ("# only a comment\n", "no route provided in config"),
        (
            "route:\n   group_wait: 30s\n",
            "root route must specify a default receiver",
        ),
        (
            "route:\n    receiver: team-X\n\nreceivers:\n- name: 'team-X'\n- name: 'team-X'\n",
            "notification config name \"team-X\" is not unique",
        ),
        (
            "route:\n    receiver: team-X\n\nreceivers:\n- name: 'team-Y'\n",
            "undefined receiver \"team-X\" used in route",
        ),
        (
            "route:\n    receiver: team-X\n    routes:\n      - match:\n          foo: bar\n        routes:\n        - match:\n            foo: bar\n          receiver: nonexistent\n\nreceivers:\n- name: 'team-X'\n",
            "undefined receiver \"nonexistent\" used in route",
        ),
        (
            "route:\n\nreceivers:\n- name: ''\n",
            "missing name in receiver",
        ),
        (
            "route:\n    receiver: team-Y\n    routes:\n    -  match:\n        severity: critical\n       mute_time_intervals:\n       - business_hours\n\nreceivers:\n- name: 'team-Y'\n",
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            "route:\n    receiver: team-Y\n    routes:\n    -  match:\n        severity: critical\n       active_time_intervals:\n       - business_hours\n\nreceivers:\n- name: 'team-Y'\n",
            "undefined time interval \"business_hours\" used in route",
        ),
        (
            "time_intervals:\n- name: \n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\n\nreceivers:\n- name: 'team-X-mails'\n\nroute:\n  receiver: 'team-X-mails'\n  routes:\n  -  match:\n      severity: critical\n     mute_time_intervals:\n     - business_hours\n",
            "missing name in time interval",
        ),
        (
            "mute_time_intervals:\n- name: duplicate\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\n- name: duplicate\n  time_intervals:\n  - times:\n     - start_time: '10:00'\n       end_time: '14:00'\n\nreceivers:\n- name: 'team-X-mails'\n\nroute:\n  receiver: 'team-X-mails'\n  routes:\n  -  match:\n      severity: critical\n     mute_time_intervals:\n     - business_hours\n",
            "mute time interval \"duplicate\" is not unique",
        ),
        (
            "route:\n  group_by: ['alertname', 'cluster', 'service', 'cluster']\n\nreceivers:\n- name: 'team-X-mails'\n",
            "duplicated label \"cluster\" in group_by",
        ),
        (
            "route:\n  group_by: ['alertname', 'cluster', '...']\n  receiver: team-X-mails\nreceivers:\n- name: 'team-X-mails'\n",
            "cannot have wildcard group_by (`...`) and other other labels at the same time",
        ),
        (
            "route:\n  group_by: ['-invalid-']\n  receiver: team-X-mails\nreceivers:\n- name: 'team-X-mails'\n",
            "invalid label name \"-invalid-\" in group_by list",
        ),
        ("receivers:\n- name: 'team-X-mails'\n", "no routes provided"),
        (
            "mute_time_intervals:\n- name: my_mute_time\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\n\nreceivers:\n- name: 'team-X-mails'\n\nroute:\n  receiver: 'team-X-mails'\n  mute_time_intervals:\n  - my_mute_time\n",
            "root route must not have any mute time intervals",
        ),
        (
            "time_intervals:\n- name: my_active_time\n  time_intervals:\n  - times:\n     - start_time: '09:00'\n       end_time: '17:00'\n\nreceivers:\n- name: 'team-X-mails'\n\nroute:\n  receiver: 'team-X-mails'\n  active_time_intervals:\n  - my_active_time\n",
            "root route must not have any active time intervals",
        ),
        (
            "route:\n  receiver: 'team-X'\n  match:\n    severity: critical\nreceivers:\n- name: 'team-X'\n",
            "root route must not have any matchers",
        ),
        (
            "route:\n  receiver: 'team-X'\n  matchers:\n    - severity=critical\nreceivers:\n- name: 'team-X'\n",
            "root route must not have any matchers",
        ),
        (
            "route:\n    receiver: team-X-mails\n    continue: true\n\nreceivers:\n- name: 'team-X-mails'\n",
            "cannot have continue in root route",
        ),
        (
            "route:\n    receiver: team-X-mails\n    group_interval: 0s\n\nreceivers:\n- name: 'team-X-mails'\n",
            "group_interval cannot be zero",
        ),
        (
            "route:\n    receiver: team-X-mails\n    repeat_interval: 0s\n\nreceivers:\n- name: 'team-X-mails'\n",
            "repeat_interval cannot be zero",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  email_configs:\n  - to: x@example.org\n",
            "no global SMTP smarthost set",
        ),
        (
            "global: {smtp_smarthost: 'localhost:25'}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs:\n  - to: x@example.org\n",
            "no global SMTP from set",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  email_configs:\n  - from: x@example.org\n",
            "missing to address in email config",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs:\n  - send_resolved: true\n",
            "missing URL in webhook config",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs:\n  - url: ftp://example.org/\n",
            "unsupported scheme \"ftp\" for URL",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  pagerduty_configs:\n  - description: x\n",
            "missing service or routing key in PagerDuty config",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  pagerduty_configs:\n  - routing_key: x\n    routing_key_file: /y\n",
            "at most one of routing_key & routing_key_file must be configured",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  slack_configs:\n  - api_url: http://x/\n    fields: [{title: t}]\n",
            "missing value in Slack field configuration",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  slack_configs:\n  - api_url: http://x/\n    actions: [{type: button, text: t}]\n",
            "missing name or url in Slack action configuration",
        ),
        (
            "route: {receiver: a}\nreceivers:\n- name: a\n  discord_configs:\n  - title: x\n",
            "no discord webhook URL provided",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - match: {'bad-label': x}\nreceivers:\n- name: a\n",
            "invalid label name \"bad-label\"",
        ),
        (
            "route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules:\n- source_matchers: [a=b]\n  equal: ['not valid']\n",
            "\"not valid\" is not a valid label name",
        ),
    ];
    for (input, want) in cases {
        expect_err(input, want);
    }
}

#[test]
fn unknown_fields_are_refused() {
    for input in [
        "route: {receiver: a}\nreceivers: [{name: a}]\nbogus: 1\n",
        "route: {receiver: a, bogus: 1}\nreceivers: [{name: a}]\n",
        "route: {receiver: a}\nreceivers: [{name: a, bogus_configs: []}]\n",
        "global: {bogus: 1}\nroute: {receiver: a}\nreceivers: [{name: a}]\n",
        "route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'http://x/', bogus: 1}]\n",
        "route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules: [{bogus: 1}]\n",
    ] {
        let err = parse_config(input).unwrap_err();
        assert!(matches!(err, ConfigError::Yaml(_)), "{input}: {err}");
        assert!(err.to_string().contains("unknown field"), "{input}: {err}");
    }
}

#[test]
fn bad_matchers_and_regexps() {
    let err = parse_config(
        "route:\n  receiver: a\n  routes:\n  - matchers: ['foo=~\"(\"']\nreceivers: [{name: a}]\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("error parsing regexp"), "{err}");
    let err = parse_config(
        "route:\n  receiver: a\n  routes:\n  - match_re: {foo: '('}\nreceivers: [{name: a}]\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("error parsing regexp"), "{err}");
    let err = parse_config("route:\n  receiver: a\n  group_wait: 5x\nreceivers: [{name: a}]\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("not a valid duration string"),
        "{err}"
    );
}

#[test]
fn good_file() {
    let c = load_file("conf.good.yml").unwrap();
    assert_eq!(c.global.smtp_hello, "host.example.org");
    assert_eq!(c.global.resolve_timeout_ms, 300_000);
    assert_eq!(
        c.global.smtp_smarthost,
        Some(HostPort {
            host: "localhost".into(),
            port: "25".into()
        })
    );
    assert!(c.global.http_config.is_some());
    assert_eq!(c.templates, vec!["/etc/alertmanager/template/*.tmpl"]);
    assert_eq!(c.receivers.len(), 9);
    assert!(c.original.contains("team-X-mails"));

    // Global defaults filled in.
    let x = c.receiver("team-X-mails").unwrap();
    let e = &x.email_configs[0];
    assert_eq!(e.from, "alertmanager@example.org");
    assert_eq!(e.smarthost.as_ref().unwrap().to_string(), "localhost:25");
    assert_eq!(e.auth_username, "alertmanager");
    assert_eq!(e.auth_password, "multiline\nmysecret");
    assert_eq!(e.require_tls, Some(true));
    assert!(!e.send_resolved);
    assert_eq!(e.html, r#"{{ template "email.default.html" . }}"#);

    let pd = &c.receiver("team-X-pager").unwrap().pagerduty_configs[0];
    assert!(pd.send_resolved);
    assert_eq!(
        pd.url.as_deref(),
        Some("https://events.pagerduty.com/v2/enqueue")
    );
    assert_eq!(pd.details.len(), 4);
    assert_eq!(pd.source, pd.client);

    let slack = &c.receiver("slack-receiver").unwrap().slack_configs[0];
    assert!(!slack.send_resolved);
    assert_eq!(
        slack.api_url.as_deref(),
        Some("http://mysecret.example.com/")
    );
    assert_eq!(slack.channel, "#my-channel");
    assert_eq!(slack.http_config, c.global.http_config);
    assert_eq!(
        c.receiver("opsGenie-receiver")
            .unwrap()
            .opsgenie_configs
            .len(),
        1
    );

    // The routing tree.
    let root = Route::new(&c.route).unwrap();
    assert_eq!(root.repeat_interval_ms, 3 * 3_600_000);
    assert_eq!(root.all_routes().len(), 8);
    assert_eq!(root.routes[0].key(), r#"{}/{service=~"^(foo1|foo2|baz)$"}"#);
    assert_eq!(c.inhibit_rules.len(), 1);
    assert_eq!(
        c.inhibit_rules[0].equal,
        vec!["alertname", "cluster", "service"]
    );
}

#[test]
fn empty_fields_file() {
    let c = load_file("conf.empty-fields.yml").unwrap();
    assert_eq!(c.global.smtp_hello, "");
    assert_eq!(c.global.smtp_auth_username, "");
    let e = &c.receivers[0].email_configs[0];
    assert_eq!(e.to, "team-X+alerts@example.org");
    assert_eq!(e.from, "alertmanager@example.org");
    assert_eq!(e.require_tls, Some(true));
    assert_eq!(
        c.route.routes[0]
            .match_re
            .get("service")
            .cloned()
            .flatten()
            .as_deref(),
        Some("^(foo1|foo2|baz)$")
    );
}

#[test]
fn http_config_file() {
    let c = load_file("conf.http-config.good.yml").unwrap();
    let local = c.receivers[0].slack_configs[0]
        .http_config
        .as_ref()
        .unwrap();
    assert!(local.get("proxy_url").is_some());
    assert!(
        c.global
            .http_config
            .as_ref()
            .unwrap()
            .get("follow_redirects")
            .is_some()
    );
}

#[test]
fn group_by_all_file() {
    let c = load_file("conf.group-by-all.yml").unwrap();
    assert!(c.route.group_by_all());
    assert!(Route::new(&c.route).unwrap().group_by_all);
}

#[test]
fn smtp_files() {
    assert_eq!(
        load_file("conf.smtp-both-password-and-file.yml")
            .unwrap_err()
            .to_string(),
        "at most one of smtp_auth_password & smtp_auth_password_file must be configured"
    );
    load_file("conf.smtp-no-username-or-password.yml").unwrap();
    let c = load_file("conf.smtp-password-global-and-local.yml").unwrap();
    let e = &c.receivers[0].email_configs;
    assert_eq!(e[0].auth_password_file, "/tmp/globaluserpassword");
    assert_eq!(e[0].auth_password, "");
    assert_eq!(e[1].auth_password_file, "/tmp/localuser1password");
    assert_eq!(e[1].auth_password, "");
    assert_eq!(e[2].auth_password, "mysecret");
    assert_eq!(e[2].auth_password_file, "");
}

#[test]
fn slack_files() {
    assert_eq!(
        load_file("conf.slack-both-file-and-url.yml")
            .unwrap_err()
            .to_string(),
        "at most one of slack_api_url & slack_api_url_file must be configured"
    );
    assert_eq!(
        load_file("conf.slack-no-api-url.yml")
            .unwrap_err()
            .to_string(),
        "no global Slack API URL set either inline or in a file"
    );
    let c = load_file("conf.slack-default-api-url-file.yml").unwrap();
    let s = &c.receivers[0].slack_configs;
    assert_eq!(s[0].api_url_file, "/global_file");
    assert_eq!(s[0].api_url, None);
    assert_eq!(s[1].api_url_file, "/override_file");
    assert_eq!(s[1].api_url, None);
    assert_eq!(
        s[2].api_url.as_deref(),
        Some("http://mysecret.example.com/")
    );
    assert_eq!(s[2].api_url_file, "");
}

#[test]
fn opaque_integration_files() {
    load_file("conf.victorops-default-apikey.yml").unwrap();
    load_file("conf.victorops-default-apikey-file.yml").unwrap();
    assert_eq!(
        load_file("conf.victorops-both-file-and-apikey.yml")
            .unwrap_err()
            .to_string(),
        "at most one of victorops_api_key & victorops_api_key_file must be configured"
    );
    assert_eq!(
        load_file("conf.victorops-no-apikey.yml")
            .unwrap_err()
            .to_string(),
        "no global VictorOps API Key set"
    );
    load_file("conf.opsgenie-default-apikey.yml").unwrap();
    load_file("conf.opsgenie-default-apikey-file.yml").unwrap();
    assert_eq!(
        load_file("conf.opsgenie-both-file-and-apikey.yml")
            .unwrap_err()
            .to_string(),
        "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured"
    );
    assert_eq!(
        load_file("conf.opsgenie-no-apikey.yml")
            .unwrap_err()
            .to_string(),
        "no global OpsGenie API Key set either inline or in a file"
    );
    // Alertmanager refuses the unknown `teams` field; opaque integrations are not checked
    // field by field, but this file is invalid anyway (undefined receiver).
    assert!(load_file("conf.opsgenie-default-apikey-old-team.yml").is_err());
    load_file("conf.sns-topic-arn.yml").unwrap();
    assert_eq!(
        load_file("conf.sns-invalid.yml").unwrap_err().to_string(),
        "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
    );
}

#[test]
fn nil_regexps() {
    for (file, want) in [
        ("conf.nil-match_re-route.yml", "invalid_label"),
        (
            "conf.nil-source_match_re-inhibition.yml",
            "invalid_source_label",
        ),
        (
            "conf.nil-target_match_re-inhibition.yml",
            "invalid_target_label",
        ),
    ] {
        let err = load_file(file).unwrap_err().to_string();
        assert!(err.contains(want), "{file}: {err}");
    }
}

#[test]
fn time_intervals_and_newer_fields() {
    let c = parse_config(
        r#"
global:
  resolve_timeout: 1m
  slack_app_token: xoxb-1
route:
  receiver: a
  routes:
  - receiver: b
    matchers: ['env="prod"', 'team=~"a|b"']
    active_time_intervals: [business]
    mute_time_intervals: [legacy]
receivers:
- name: a
- name: b
  webhook_configs:
  - url_file: /run/secret/url
    timeout: 10s
  msteams_configs:
  - webhook_url: http://teams.example.com/
time_intervals:
- name: business
  time_intervals:
  - weekdays: ['monday:friday']
    times: [{start_time: '09:00', end_time: '17:00'}]
    location: UTC
mute_time_intervals:
- name: legacy
  time_intervals:
  - months: [december]
inhibit_rules:
- name: crit-mutes-warn
  source_matchers: [severity=critical]
  target_matchers: [severity=warning]
"#,
    )
    .unwrap();
    assert_eq!(c.global.resolve_timeout_ms, 60_000);
    assert!(c.global.newer.contains_key("slack_app_token"));
    let w = &c.receiver("b").unwrap().webhook_configs[0];
    assert!(w.send_resolved);
    assert_eq!(w.timeout, Some(10_000));
    assert_eq!(c.route.routes[0].matchers.len(), 2);
    let t = c.time_interval("business").unwrap();
    let monday_noon = chrono::DateTime::parse_from_rfc3339("2024-06-03T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(t.contains(monday_noon));
    assert!(c.time_interval("legacy").is_some());
    let zone = |name: &str| {
        parse_config(&format!(
            "time_intervals:\n- name: x\n  time_intervals:\n  - location: {name}\nroute: {{receiver: a}}\nreceivers: [{{name: a}}]\n"
        ))
    };
    zone("Europe/Paris").expect("IANA zones are known");
    let err = zone("Mars/Olympus").unwrap_err();
    assert!(
        err.to_string().contains("unknown time zone Mars/Olympus"),
        "{err}"
    );
}

#[test]
fn unquoted_wildcard_group_by() {
    let c = parse_config(
        "route:\n    receiver: team-X-mails\n    group_by: [...]\n\nreceivers:\n- name: 'team-X-mails'\n",
    )
    .unwrap();
    assert!(c.route.group_by_all());
}

#[test]
fn status_masks_secrets_as_alertmanager() {
    let text = "global:\n  smtp_auth_password: hunter2\n  slack_api_url: https://hooks.slack.com/services/T/B/X\nroute:\n  receiver: r\nreceivers:\n- name: r\n  slack_configs:\n  - api_url: https://hooks.slack.com/services/T/B/Y\n    channel: '#a'\n  pagerduty_configs:\n  - routing_key: rk\n  webhook_configs:\n  - url: http://hook/x\n    http_config: {basic_auth: {username: u, password: p}}\n";
    let masked = architect_alertmanager::config::mask_secrets(text);
    for secret in ["hunter2", "services/T/B", "rk\n", "password: p"] {
        assert!(!masked.contains(secret), "{secret} leaked: {masked}");
    }
    assert!(masked.contains("http://hook/x"), "{masked}");
    assert!(masked.contains("channel: '#a'"), "{masked}");
    assert_eq!(masked.matches("<secret>").count(), 5, "{masked}");
    architect_alertmanager::config::parse_config(&masked).expect("still a valid configuration");
}
