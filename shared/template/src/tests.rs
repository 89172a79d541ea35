//! Expected outputs ported from Prometheus's `template/template_test.go`, plus
//! alert-header tests.

use super::*;

const EXT_URL: &str = "http://testhost:9090/path/prefix";
const TS_MS: i64 = 1_353_755_652_000;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn fake_query(result: Vec<QuerySample>) -> QueryFn {
    Arc::new(move |_q: &str| Ok(result.clone()))
}

/// Prometheus's `testTemplateExpansion`: name "test", no header.
fn expand_raw(text: &str, input: Value, query: Vec<QuerySample>) -> Result<String, TemplateError> {
    let ctx = funcs::FuncContext {
        timestamp_ms: TS_MS,
        external_url: EXT_URL.to_owned(),
        query: Some(fake_query(query)),
    };
    run("test", text, &input, &ctx)
}

fn ok(text: &str, input: Value, want: &str) {
    match expand_raw(text, input, Vec::new()) {
        Ok(got) => assert_eq!(got, want, "template {text:?}"),
        Err(e) => panic!("template {text:?} failed: {e}"),
    }
}

fn ok_q(text: &str, query: Vec<QuerySample>, want: &str) {
    match expand_raw(text, Value::Nil, query) {
        Ok(got) => assert_eq!(got, want, "template {text:?}"),
        Err(e) => panic!("template {text:?} failed: {e}"),
    }
}

fn fails(text: &str, input: Value, want: &str) {
    match expand_raw(text, input, Vec::new()) {
        Ok(got) => panic!("template {text:?} should fail, got {got:?}"),
        Err(e) => assert_eq!(e.to_string(), want, "template {text:?}"),
    }
}

fn floats(v: &[f64]) -> Value {
    Value::List(
        v.iter()
            .map(|f| Value::Float(*f))
            .collect::<Vec<_>>()
            .into(),
    )
}

fn strs(v: &[&str]) -> Value {
    Value::List(
        v.iter()
            .map(|s| Value::String(Arc::from(*s)))
            .collect::<Vec<_>>()
            .into(),
    )
}

fn ints(v: &[i64]) -> Value {
    Value::List(v.iter().map(|i| Value::Int(*i)).collect::<Vec<_>>().into())
}

fn uints(v: &[u64]) -> Value {
    Value::List(v.iter().map(|u| Value::Uint(*u)).collect::<Vec<_>>().into())
}

fn sample(pairs: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: labels(pairs),
        value,
    }
}

#[test]
fn basics() {
    ok("plain text", Value::Nil, "plain text");
    ok("{{ 1 }}", Value::Nil, "1");
    ok("{{ \"<b>\" }}", Value::Nil, "<b>");
    ok(
        "{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}",
        Value::Nil,
        "1 2",
    );
    ok("{{ .Foo }}", Value::Nil, "<no value>");
    ok("{{ \"<b>\" | safeHtml }}", Value::Nil, "<b>");
}

#[test]
fn parse_errors() {
    fails(
        "{{",
        Value::Nil,
        "error parsing template test: template: test:1: unclosed action",
    );
    fails(
        "{{\u{a0}}}",
        Value::Nil,
        "error parsing template test: template: test:1: unrecognized character in action: U+00A0",
    );
    fails(
        "ok\u{a0} {{ \"\u{a0}\" }}\n{{ 1 }}{{ `\u{a0}` }}{{/* \u{a0} */}}\n{{ 1\u{2003}}}",
        Value::Nil,
        "error parsing template test: template: test:3: unrecognized character in action: U+2003",
    );
    fails(
        "{{ \u{a7} }}",
        Value::Nil,
        "error parsing template test: template: test:1: unrecognized character in action: U+00A7 '\u{a7}'",
    );
    fails(
        "{{ foo 1 }}",
        Value::Nil,
        "error parsing template test: template: test:1: function \"foo\" not defined",
    );
}

#[test]
fn query_functions() {
    let metric_a = || vec![sample(&[("__name__", "metric"), ("instance", "a")], 11.0)];
    ok_q(
        "{{ query \"1.5\" | first | value }}",
        vec![sample(&[], 1.5)],
        "1.5",
    );
    ok_q(
        "{{ query \"metric{instance='a'}\" | first | value }}",
        metric_a(),
        "11",
    );
    ok_q(
        "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}",
        metric_a(),
        "a",
    );
    ok_q(
        "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
        vec![sample(&[("__name__", "metric"), ("__value__", "a")], 11.0)],
        "a",
    );
    ok_q(
        "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}",
        metric_a(),
        "",
    );
    ok_q(
        "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
        metric_a(),
        "",
    );
    ok_q(
        "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}",
        vec![
            sample(&[("__name__", "metric"), ("instance", "b")], 21.0),
            sample(&[("__name__", "metric"), ("instance", "a")], 11.0),
        ],
        "a:11: b:21: ",
    );
    match expand_raw("{{ query \"missing\" | first }}", Value::Nil, Vec::new()) {
        Err(e) => assert_eq!(
            e.to_string(),
            "error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: first() called on vector with no elements"
        ),
        Ok(v) => panic!("expected error, got {v:?}"),
    }
    // Error returned by the query function itself.
    let failing: QueryFn = Arc::new(|q: &str| Err(format!("bad query {q}")));
    let ctx = funcs::FuncContext {
        timestamp_ms: 0,
        external_url: String::new(),
        query: Some(failing),
    };
    let err = run("t", "{{ query \"up\" }}", &Value::Nil, &ctx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error executing template t: template: t:1:3: executing \"t\" at <query \"up\">: error calling query: bad query up"
    );
}

#[test]
fn strip_port_and_domain() {
    for (input, port, domain) in [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        (
            "[2001:0DB8::1]:12345",
            "2001:0DB8::1",
            "[2001:0DB8::1]:12345",
        ),
        (
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
        ),
    ] {
        ok(
            &format!("{{{{ \"{input}\" | stripPort }}}}"),
            Value::Nil,
            port,
        );
        ok(
            &format!("{{{{ \"{input}\" | stripDomain }}}}"),
            Value::Nil,
            domain,
        );
    }
}

#[test]
fn regex_functions() {
    ok(
        "{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}",
        Value::Nil,
        "xa",
    );
    ok(
        "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}",
        Value::Nil,
        "true false",
    );
}

#[test]
fn humanize() {
    let t = "{{ range . }}{{ humanize . }}:{{ end }}";
    ok(t, floats(&[0.0, 1.0, 1234567.0, 0.12]), "0:1:1.235M:120m:");
    ok(
        t,
        strs(&["0.0", "1.0", "1234567.0", ".12"]),
        "0:1:1.235M:120m:",
    );
    ok(
        t,
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        "0:-1:1:1.235M:9.223E:",
    );
    ok(t, uints(&[0, 1, 1234567, u64::MAX]), "0:1:1.235M:18.45E:");
    fails(
        "{{ humanize \"one\" }}",
        Value::Nil,
        "error executing template test: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_1024() {
    let t = "{{ range . }}{{ humanize1024 . }}:{{ end }}";
    ok(t, floats(&[0.0, 1.0, 1048576.0, 0.12]), "0:1:1Mi:0.12:");
    ok(
        t,
        strs(&["0.0", "1.0", "1048576.0", ".12"]),
        "0:1:1Mi:0.12:",
    );
    ok(
        t,
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        "0:-1:1:1.177Mi:8Ei:",
    );
    ok(t, uints(&[0, 1, 1234567, u64::MAX]), "0:1:1.177Mi:16Ei:");
    fails(
        "{{ humanize1024 \"one\" }}",
        Value::Nil,
        "error executing template test: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_duration() {
    let t = "{{ range . }}{{ humanizeDuration . }}:{{ end }}";
    ok(
        t,
        floats(&[
            0.0,
            1.0,
            60.0,
            3600.0,
            86400.0,
            86400.0 + 3600.0,
            -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
            899.99,
        ]),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
    );
    ok(
        t,
        strs(&["0", "1", "60", "3600", "86400"]),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
    );
    let sub = "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:";
    ok(
        t,
        floats(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]),
        sub,
    );
    ok(
        t,
        strs(&[".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]),
        sub,
    );
    ok(t, ints(&[0, -1, 1, 1234567]), "0s:-1s:1s:14d 6h 56m 7s:");
    ok(t, uints(&[0, 1, 1234567]), "0s:1s:14d 6h 56m 7s:");
    fails(
        "{{ humanizeDuration \"one\" }}",
        Value::Nil,
        "error executing template test: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_inf_nan() {
    let t = "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}";
    let want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
    ok(
        t,
        floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
        want,
    );
    ok(t, strs(&["+Inf", "-Inf", "NaN"]), want);
}

#[test]
fn humanize_percentage() {
    ok(
        "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
        Value::Nil,
        "-22.22%:0%:12.35%:123.5%",
    );
    let t = "{{ range . }}{{ humanizePercentage . }}:{{ end }}";
    ok(
        t,
        ints(&[0, -1, 1, 1234567, i64::MAX]),
        "0%:-100%:100%:1.235e+08%:9.223e+20%:",
    );
    ok(
        t,
        uints(&[0, 1, 1234567, u64::MAX]),
        "0%:100%:1.235e+08%:1.845e+21%:",
    );
    ok(
        "{{ \"-0.22222\" | humanizePercentage }}:{{ \"0.0\" | humanizePercentage }}:{{ \"0.1234567\" | humanizePercentage }}:{{ \"1.23456\" | humanizePercentage }}",
        Value::Nil,
        "-22.22%:0%:12.35%:123.5%",
    );
    fails(
        "{{ \"one\" | humanizePercentage }}",
        Value::Nil,
        "error executing template test: template: test:1:11: executing \"test\" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax",
    );
}

#[test]
fn humanize_timestamp() {
    let t = "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}";
    ok(
        t,
        ints(&[0, -1, 1, 1234567, 9223372036]),
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    );
    ok(
        t,
        uints(&[0, 1, 1234567, 9223372036]),
        "1970-01-01 00:00:00 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:",
    );
    fails(
        t,
        ints(&[i64::MIN, i64::MAX]),
        "error executing template test: template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64",
    );
    fails(
        t,
        uints(&[u64::MAX]),
        "error executing template test: template: test:1:16: executing \"test\" at <humanizeTimestamp .>: error calling humanizeTimestamp: 1.8446744073709552e+19 cannot be represented as a nanoseconds timestamp since it overflows int64",
    );
    ok(
        "{{ 1435065584.128 | humanizeTimestamp }}",
        Value::Nil,
        "2015-06-23 13:19:44.128 +0000 UTC",
    );
    ok(
        "{{ \"1435065584.128\" | humanizeTimestamp }}",
        Value::Nil,
        "2015-06-23 13:19:44.128 +0000 UTC",
    );
}

#[test]
fn time_functions() {
    ok(
        "{{ (1435065584.128 | toTime).Format \"2006\" }}",
        Value::Nil,
        "2015",
    );
    ok(
        "{{ (\"1435065584.128\" | toTime).Format \"2006\" }}",
        Value::Nil,
        "2015",
    );
    ok("{{ (1800 | toDuration).String }}", Value::Nil, "30m0s");
    ok("{{ (\"1800\" | toDuration).String }}", Value::Nil, "30m0s");
    ok("{{ 1800 | toDuration }}", Value::Nil, "30m0s");
    ok("{{ now }}", Value::Nil, "1.353755652e+09");
    ok(
        "{{ (now | toTime).Format \"Mon Jan 2 15:04:05 2006\" }}",
        Value::Nil,
        "Sat Nov 24 11:14:12 2012",
    );
    ok(
        "{{ now | toTime }}",
        Value::Nil,
        "2012-11-24 11:14:12 +0000 UTC",
    );
    ok(
        "{{ (\"-30m\" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}",
        Value::Nil,
        "1353753852000",
    );
    ok(
        "{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}",
        Value::Nil,
        "3720.01",
    );
    ok(
        "{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}",
        Value::Nil,
        "-3720.01",
    );
    assert_eq!(
        funcs::float_to_time(1657155181.0),
        Ok(1_657_155_181_000_000_000)
    );
    assert!(funcs::float_to_time(1.797_693_134_862_315_7e300).is_err());
    assert!(funcs::float_to_time(-1.797_693_134_862_315_7e300).is_err());
}

#[test]
fn string_functions() {
    ok("{{ \"aa bb CC\" | title }}", Value::Nil, "Aa Bb CC");
    ok("{{ \"aa bb CC\" | toUpper }}", Value::Nil, "AA BB CC");
    ok("{{ \"aA bB CC\" | toLower }}", Value::Nil, "aa bb cc");
    ok(
        "{{ graphLink \"up\" }}",
        Value::Nil,
        "/graph?g0.expr=up&g0.tab=0",
    );
    ok(
        "{{ tableLink \"up\" }}",
        Value::Nil,
        "/graph?g0.expr=up&g0.tab=1",
    );
    ok("{{ pathPrefix }}", Value::Nil, "/path/prefix");
    ok(
        "{{ externalURL }}",
        Value::Nil,
        "http://testhost:9090/path/prefix",
    );
    ok(
        "{{ urlQueryEscape \"a b&c=d/é\" }}",
        Value::Nil,
        "a+b%26c%3Dd%2F%C3%A9",
    );
}

#[test]
fn go_printing() {
    ok(
        "{{ 1234567.0 }} {{ 0.5 }} {{ 1e-05 }}",
        Value::Nil,
        "1.234567e+06 0.5 1e-05",
    );
    ok("{{ print 1234567.0 2 }}", Value::Nil, "1.234567e+06 2");
    ok("{{ . }}", floats(&[1e6, 2.0]), "[1e+06 2]");
    ok("{{ args 1.5 \"x\" }}", Value::Nil, "map[arg0:1.5 arg1:x]");
    ok("{{ (args 1).arg5 }}", Value::Nil, "<no value>");
}

fn alert(text: &str, data: TemplateData, query: Option<QueryFn>) -> Result<String, TemplateError> {
    Expander::new("__alert_HighErrorRate", text, data, TS_MS, EXT_URL, query).expand()
}

fn alert_data() -> TemplateData {
    TemplateData {
        labels: labels(&[("instance", "db-1:9100"), ("job", "node")]),
        external_labels: labels(&[("cluster", "eu-1")]),
        external_url: EXT_URL.to_owned(),
        value: 0.123456789,
    }
}

#[test]
fn alert_header_variables() {
    let out = alert(
        "{{ $labels.instance }} {{ $labels.job }} {{ $value }} {{ $externalLabels.cluster }} {{ $externalURL }}",
        alert_data(),
        None,
    );
    assert_eq!(
        out.as_deref(),
        Ok("db-1:9100 node 0.123456789 eu-1 http://testhost:9090/path/prefix")
    );
    for (value, want) in [
        (1.0, "1"),
        (1234567.0, "1.234567e+06"),
        (f64::NAN, "NaN"),
        (-0.5, "-0.5"),
    ] {
        let data = TemplateData {
            value,
            ..alert_data()
        };
        assert_eq!(alert("{{ $value }}", data, None).as_deref(), Ok(want));
    }
    assert_eq!(
        alert(
            "{{ .Labels.job }}|{{ .Value | humanize }}|{{ printf \"%.2f\" $value }}",
            alert_data(),
            None
        )
        .as_deref(),
        Ok("node|123.5m|0.12")
    );
}

#[test]
fn missing_label_is_empty() {
    assert_eq!(
        alert("[{{ $labels.nope }}]", alert_data(), None).as_deref(),
        Ok("[]")
    );
    assert_eq!(
        alert("[{{ index $labels \"nope\" }}]", alert_data(), None).as_deref(),
        Ok("[]")
    );
    assert_eq!(
        alert(
            "{{ if eq $labels.nope \"\" }}empty{{ end }}",
            alert_data(),
            None
        )
        .as_deref(),
        Ok("empty")
    );
    assert_eq!(
        alert("[{{ $externalLabels.x }}]", TemplateData::default(), None).as_deref(),
        Ok("[]")
    );
    let err = alert("{{ .Nope }}", alert_data(), None).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "error executing template __alert_HighErrorRate: template: __alert_HighErrorRate:1:"
        ),
        "{err}"
    );
    assert!(err.to_string().ends_with("at <.Nope>: can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"), "{err}");
}

#[test]
fn alert_errors() {
    let err = alert("{{ $labels.instance", alert_data(), None).unwrap_err();
    assert_eq!(
        err,
        TemplateError::Parse {
            name: "__alert_HighErrorRate".into(),
            message: "template: __alert_HighErrorRate:1: unclosed action".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "error parsing template __alert_HighErrorRate: template: __alert_HighErrorRate:1: unclosed action"
    );
    // Column counts include the prepended header, like Prometheus.
    let col = ALERT_TEMPLATE_HEADER.len() + 3;
    let err = alert("{{ humanize \"x\" }}", alert_data(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error executing template __alert_HighErrorRate: template: __alert_HighErrorRate:1:{col}: executing \"__alert_HighErrorRate\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax"
        )
    );
}

#[test]
fn alert_query_range() {
    let q = fake_query(vec![
        sample(&[("__name__", "up"), ("instance", "b")], 0.0),
        sample(&[("__name__", "up"), ("instance", "a")], 1.0),
    ]);
    assert_eq!(
        alert(
            "{{ range query \"up\" }}{{ .Labels.instance }} {{ .Value }};{{ end }}",
            alert_data(),
            Some(Arc::clone(&q))
        )
        .as_deref(),
        Ok("b 0;a 1;")
    );
    assert_eq!(
        alert(
            "{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }}",
            alert_data(),
            Some(q)
        )
        .as_deref(),
        Ok("0")
    );
    let err = alert("{{ query \"up\" }}", alert_data(), None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("error calling query: no query function available"),
        "{err}"
    );
}

#[test]
fn parse_check() {
    assert_eq!(
        Expander::parse_check("__alert_X", "{{ $labels.a | humanize }}"),
        Ok(())
    );
    let err = Expander::parse_check("__alert_X", "{{ nosuchfunc $value }}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: __alert_X:1: function \"nosuchfunc\" not defined"
    );
    let err = Expander::parse_check("__alert_X", "{{ define \"x\" }}{{ $labels.a }}{{ end }}")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: __alert_X:1: undefined variable \"$labels\""
    );
    let err = Expander::parse_check("__alert_X", "{{ if true }}{{ $x := 1 }}{{ end }}\n{{ $x }}")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: __alert_X:2: undefined variable \"$x\""
    );
    assert_eq!(
        Expander::parse_check(
            "__alert_X",
            "{{ $x := 1 }}{{ range $i, $v := $labels }}{{ $x = $i }}{{ $v }}{{ end }}{{ $x }}"
        ),
        Ok(())
    );
    let err = Expander::parse_check("__alert_X", "{{ if }}").unwrap_err();
    assert!(
        err.to_string().starts_with("template: __alert_X:1: "),
        "{err}"
    );
}

#[test]
fn printf_like_go() {
    ok(
        "{{ printf \"%v|%v|%g\" 0.5 1234567.0 1e-7 }}",
        Value::Nil,
        "0.5|1.234567e+06|1e-07",
    );
    ok(
        "{{ printf \"%d|%.2f|%5.1f|%s\" 1.5 2.345 1.25 \"x\" }}",
        Value::Nil,
        "%!d(float64=1.5)|2.35|  1.2|x",
    );
    ok(
        "{{ range . }}{{ printf \"%.2f %v\" . . }}{{ end }}",
        floats(&[f64::INFINITY]),
        "+Inf +Inf",
    );
    ok(
        "{{ range . }}{{ printf \"%.1f\" . }}{{ end }}",
        floats(&[f64::NAN]),
        "NaN",
    );
    ok("{{ 1 | printf \"%d %d\" 2 }}", Value::Nil, "2 1");
    ok(
        "{{ toTime 1 | printf \"%v\" }}",
        Value::Nil,
        "1970-01-01 00:00:01 +0000 UTC",
    );
    ok("{{ printf \"%s-%d%%\" \"a\" 5 }}", Value::Nil, "a-5%");
}

#[test]
fn go_semantics_misc() {
    let q = fake_query(vec![sample(&[("instance", "a:1")], 2.5)]);
    let cases = [
        (
            "{{ if gt $value 0.1 }}big{{ end }}|{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}|{{ len $labels }}",
            "big|instance=db-1:9100 job=node |2",
        ),
        (
            "{{ $labels }}|{{ toUpper $labels.job }}|{{ with $labels.missing }}x{{ else }}y{{ end }}",
            "map[instance:db-1:9100 job:node]|NODE|y",
        ),
        (
            "{{ (query \"up\" | first).Labels.instance }}|{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
            "a:1|2",
        ),
        (
            "{{ define \"x\" }}{{ .Labels.job }}{{ end }}{{ template \"x\" . }}",
            "node",
        ),
        (
            "{{ . }}",
            "{map[instance:db-1:9100 job:node] map[cluster:eu-1] http://testhost:9090/path/prefix 0.123456789}",
        ),
        (
            "{{ print $value $labels.job 3 }}|{{ println 1.5 }}",
            "0.123456789node3|1.5\n",
        ),
        (
            "{{ index $labels \"job\" }}|{{ (index (query \"up\") 0).Value }}",
            "node|2.5",
        ),
        (
            "{{ eq $value 0.123456789 }} {{ and $labels.job $labels.nope }}",
            "true ",
        ),
        (
            "{{ $t := now | toTime }}{{ $t.Year }} {{ $t.Month }} {{ ($t.Add (toDuration 60)).Format \"15:04\" }}",
            "2012 November 11:15",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            alert(text, alert_data(), Some(Arc::clone(&q))).as_deref(),
            Ok(want),
            "{text}"
        );
    }
    let err = alert("{{ $labels.job.Foo }}", alert_data(), None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("at <$labels.job.Foo>: can't evaluate field Foo in type string"),
        "{err}"
    );
    let err = alert("{{ humanize }}", alert_data(), None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("at <humanize>: wrong number of args for humanize: want 1 got 0"),
        "{err}"
    );
}
