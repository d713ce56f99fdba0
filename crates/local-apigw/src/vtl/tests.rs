use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{RequestParams, Template, TemplateInput};

struct Fixture {
    body: String,
    params: RequestParams,
    context: Value,
    stage: BTreeMap<String, String>,
}

impl Fixture {
    fn new(body: &str) -> Self {
        let mut params = RequestParams::default();
        params.path.insert("id".into(), "42".into());
        params.querystring.insert("q".into(), "a b".into());
        params.header.insert("X-Trace".into(), "t-1".into());
        let mut stage = BTreeMap::new();
        stage.insert("env".into(), "dev".into());
        Self {
            body: body.to_owned(),
            params,
            context: json!({
                "requestId": "c0ffee00-0000-4000-8000-000000000000",
                "stage": "prod",
                "httpMethod": "POST",
                "identity": {"sourceIp": "127.0.0.1"}
            }),
            stage,
        }
    }

    fn render(&self, template: &str) -> String {
        let t = Template::parse(template).unwrap_or_else(|e| panic!("parse {template:?}: {e}"));
        t.render(&TemplateInput {
            body: &self.body,
            params: &self.params,
            context: &self.context,
            stage_variables: &self.stage,
        })
        .unwrap_or_else(|e| panic!("render {template:?}: {e}"))
    }

    fn render_err(&self, template: &str) -> String {
        match Template::parse(template) {
            Err(e) => e.to_string(),
            Ok(t) => t
                .render(&TemplateInput {
                    body: &self.body,
                    params: &self.params,
                    context: &self.context,
                    stage_variables: &self.stage,
                })
                .expect_err("expected an error")
                .to_string(),
        }
    }
}

fn r(body: &str, template: &str) -> String {
    Fixture::new(body).render(template)
}

/// The reference solution's PutRecord template (§1), with the stream name filled in.
const PUT_RECORD: &str = r#"{ "StreamName": "demo-stream", "Data": "$util.base64Encode($input.json('$.data'))", "PartitionKey": "$input.path('$.partitionKey')" }"#;

/// The reference solution's PutRecords template (§1).
const PUT_RECORDS: &str = r#"{ "StreamName": "demo-stream", "Records": [ #foreach($elem in $input.path('$.records')) { "Data": "$util.base64Encode($elem.data)", "PartitionKey": "$elem.partitionKey"}#if($foreach.hasNext),#end #end ] }"#;

#[test]
fn reference_put_record_template() {
    let out = r(r#"{"data": "hello", "partitionKey": "pk-1"}"#, PUT_RECORD);
    let v: Value = serde_json::from_str(&out).unwrap();
    // $input.json keeps the JSON quotes, so the stored data is `"hello"` with its quotes.
    assert_eq!(v["Data"], json!("ImhlbGxvIg=="));
    assert_eq!(v["PartitionKey"], json!("pk-1"));
    assert_eq!(v["StreamName"], json!("demo-stream"));
}

#[test]
fn reference_put_records_template() {
    let body = r#"{"records": [{"data": "a", "partitionKey": "k1"}, {"data": "b", "partitionKey": "k2"}, {"data": "c", "partitionKey": "k3"}]}"#;
    let out = r(body, PUT_RECORDS);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v["Records"],
        json!([
            {"Data": "YQ==", "PartitionKey": "k1"},
            {"Data": "Yg==", "PartitionKey": "k2"},
            {"Data": "Yw==", "PartitionKey": "k3"}
        ])
    );
}

#[test]
fn put_records_with_one_and_zero_records() {
    let one = r(
        r#"{"records": [{"data": "a", "partitionKey": "k"}]}"#,
        PUT_RECORDS,
    );
    let v: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["Records"].as_array().unwrap().len(), 1);
    let none = r(r#"{"records": []}"#, PUT_RECORDS);
    let v: Value = serde_json::from_str(&none).unwrap();
    assert_eq!(v["Records"], json!([]));
}

#[test]
fn input_json_and_path() {
    let body = r#"{"a": {"b": [1, {"c": "x"}]}, "s": "q\"t", "n": 1.5}"#;
    assert_eq!(r(body, "$input.json('$.a')"), r#"{"b":[1,{"c":"x"}]}"#);
    assert_eq!(r(body, "$input.json('$.s')"), r#""q\"t""#);
    assert_eq!(r(body, "$input.path('$.s')"), r#"q"t"#);
    assert_eq!(r(body, "$input.path('$.a.b[1].c')"), "x");
    assert_eq!(r(body, "$input.path('$.a').b[1].c"), "x");
    // API Gateway: a map renders Java-style, the list inside it as JSON.
    assert_eq!(r(body, "$input.path('$.a')"), r#"{b=[1,{"c":"x"}]}"#);
    assert_eq!(r(body, "$input.path('$.a.b')"), r#"[1,{"c":"x"}]"#);
    assert_eq!(r(body, "$input.path('$..c')"), r#"["x"]"#);
    assert_eq!(r(body, "$input.path('$.n')"), "1.5");
    assert_eq!(
        r(body, "[$input.path('$.missing')][$input.json('$.missing')]"),
        "[][]"
    );
    assert_eq!(
        r(body, "$input.json('$')"),
        serde_json::to_string(&serde_json::from_str::<Value>(body).unwrap()).unwrap()
    );
}

#[test]
fn input_body_and_params() {
    let f = Fixture::new("raw body");
    assert_eq!(f.render("$input.body"), "raw body");
    assert_eq!(f.render("$input.params('id')"), "42");
    assert_eq!(f.render("$input.params('q')"), "a b");
    assert_eq!(f.render("$input.params('x-trace')"), "t-1");
    assert_eq!(f.render("[$input.params('nope')]"), "[]");
    assert_eq!(f.render("$input.params().path.id"), "42");
    assert_eq!(f.render("$input.params().header.get('X-Trace')"), "t-1");
    assert_eq!(
        f.render("#foreach($k in $input.params().keySet())$k#if($foreach.hasNext),#end#end"),
        "header,path,querystring"
    );
}

#[test]
fn util_functions() {
    let f = Fixture::new(r#"{"t": "it's \"x\"/y\n"}"#);
    assert_eq!(f.render("$util.base64Encode('hello')"), "aGVsbG8=");
    assert_eq!(f.render("$util.base64Decode('aGVsbG8=')"), "hello");
    assert_eq!(
        f.render("$util.escapeJavaScript($input.path('$.t'))"),
        r#"it\'s \"x\"\/y\n"#
    );
    assert_eq!(f.render("$util.urlEncode('a b&c')"), "a+b%26c");
    assert_eq!(f.render("$util.urlDecode('a+b%26c')"), "a b&c");
    assert_eq!(f.render("$util.parseJson('{\"k\": [1,2]}').k[1]"), "2");
    assert!(
        f.render_err("$util.base64Decode('@@@')")
            .contains("base64Decode")
    );
    // Given null, a `$util` function gives null, which renders as nothing.
    assert_eq!(f.render("[$util.base64Encode($nothing)]"), "[]");
}

#[test]
fn context_and_stage_variables() {
    let f = Fixture::new("{}");
    assert_eq!(
        f.render("$context.requestId $context.identity.sourceIp $context.stage $context.httpMethod $stageVariables.env"),
        "c0ffee00-0000-4000-8000-000000000000 127.0.0.1 prod POST dev"
    );
}

#[test]
fn undefined_references_render_as_nothing() {
    let f = Fixture::new("{}");
    // API Gateway prints nothing where stock Velocity would print `$nope`.
    assert_eq!(f.render("a $nope b"), "a  b");
    assert_eq!(f.render("a $!nope b"), "a  b");
    assert_eq!(f.render("a $!{nope} b"), "a  b");
    assert_eq!(f.render("$context.nope.deeper"), "");
    assert_eq!(
        f.render("#if($nope == $null)n#end#if($nope == '')e#end#if($context.stage == $null)x#end"),
        "ne"
    );
    assert_eq!(f.render("${context.stage}x"), "prodx");
    assert_eq!(
        f.render("cost: $5 and $ alone, #hash, a#b"),
        "cost: $5 and $ alone, #hash, a#b"
    );
    assert_eq!(f.render("\\$context.stage \\#if"), "$context.stage #if");
}

#[test]
fn foreach_state_variables() {
    let f = Fixture::new(r#"{"xs": ["a", "b", "c"]}"#);
    assert_eq!(
        f.render("#foreach($x in $input.path('$.xs'))$foreach.index:$foreach.count:$velocityCount:$x:$foreach.first:$foreach.last#if($foreach.hasNext);#end#end"),
        "0:1:1:a:true:false;1:2:2:b:false:false;2:3:3:c:false:true"
    );
    // The loop variable and $foreach are restored afterwards; nested loops keep their own state.
    assert_eq!(
        f.render("#set($x = 'kept')#foreach($x in [1, 2])#foreach($y in ['p', 'q'])$x$y$foreach.index #end$foreach.index|#end$x"),
        "1p0 1q1 0|2p0 2q1 1|kept"
    );
    assert_eq!(
        f.render("#foreach($i in [1..4])#if($i == 3)#break#end$i#end"),
        "12"
    );
    assert_eq!(f.render("#foreach($i in [3..1])$i#end"), "321");
    assert_eq!(f.render("#foreach($v in {'a': 1, 'b': 2})$v#end"), "12");
    assert_eq!(f.render("#foreach($v in $nothing)x#end."), ".");
}

#[test]
fn if_elseif_else_and_operators() {
    let f = Fixture::new(r#"{"n": 5, "s": "abc", "xs": [1, 2], "e": [], "t": true}"#);
    let t = "#if($input.path('$.n') > 10)big#elseif($input.path('$.n') >= 5)mid#{else}small#end";
    assert_eq!(f.render(t), "mid");
    assert_eq!(
        f.render("#if($input.path('$.n') == 5 && $input.path('$.s') == 'abc')y#end"),
        "y"
    );
    assert_eq!(
        f.render("#if($input.path('$.n') != 5 || !$input.path('$.t'))y#{else}n#end"),
        "n"
    );
    assert_eq!(
        f.render(
            "#if($input.path('$.xs').size() == 2 and not ($input.path('$.e').size() > 0))y#end"
        ),
        "y"
    );
    assert_eq!(
        f.render("#if($input.path('$.e').isEmpty())empty#end"),
        "empty"
    );
    assert_eq!(
        f.render("#if($input.path('$.s').length() < 4)short#end"),
        "short"
    );
    assert_eq!(f.render("#if($nothing)y#{else}n#end"), "n");
    assert_eq!(
        f.render("#if('')y#end"),
        "y",
        "Velocity 1.7: empty strings are true"
    );
    assert_eq!(
        f.render("#if(5 == '5')y#end"),
        "y",
        "mixed types compare as strings"
    );
    assert_eq!(f.render("#if(5 == 5.0)y#end"), "y");
    assert_eq!(
        f.render("#if($input.path('$.missing') == '')absent#end"),
        "absent"
    );
    assert_eq!(
        f.render("#if(1 lt 2 && 2 le 2 && 3 gt 2 && 3 ge 3 && 1 eq 1 && 1 ne 2)ok#end"),
        "ok"
    );
}

#[test]
fn set_arithmetic_and_collections() {
    let f = Fixture::new("{}");
    assert_eq!(
        f.render("#set($a = 7)#set($b = $a / 2)$b #set($c = $a % 4)$c #set($d = 7.0 / 2)$d"),
        "3 3 3.5"
    );
    assert_eq!(f.render("#set($a = 'x' + 1 + 2)$a"), "x12");
    assert_eq!(f.render("#set($a = -3 + 1)$a #set($b = -$a)$b"), "-2 2");
    assert_eq!(
        f.render("#set($m = {'k': 'v'})$m.k $m['k'] $m.get('k') $m.size()"),
        "v v v 1"
    );
    assert_eq!(
        f.render("#set($m = {})#set($m.a = 1)$!m.put('b', 2)$m"),
        "{a=1, b=2}"
    );
    assert_eq!(
        f.render("#set($l = [])#set($ignore = $l.add('x'))$l.add('y')$l $l[0] $l[-1] $l.get(1)"),
        r#"true["x","y"] x y y"#
    );
    assert_eq!(f.render("#set($s = \"id-$input.params('id')\")$s"), "id-42");
    assert_eq!(f.render("#set($s = 'no $interp')$s"), "no $interp");
    assert_eq!(f.render("#set($s = \"say \"\"hi\"\"\")$s"), "say \"hi\"");
}

#[test]
fn string_methods() {
    let f = Fixture::new(r#"{"s": "  Hello, World  "}"#);
    let s = "#set($s = $input.path('$.s').trim())";
    let check =
        |expr: &str, want: &str| assert_eq!(f.render(&format!("{s}{expr}")), want, "{expr}");
    check("$s.length()", "12");
    check("$s.toString()", "Hello, World");
    check(
        "$s.toLowerCase()|$s.toUpperCase()",
        "hello, world|HELLO, WORLD",
    );
    check("$s.substring(7)|$s.substring(0, 5)", "World|Hello");
    check(
        "$s.indexOf('o')|$s.lastIndexOf('o')|$s.indexOf('z')",
        "4|8|-1",
    );
    check(
        "$s.contains('lo,')|$s.startsWith('He')|$s.endsWith('x')",
        "true|true|false",
    );
    check("$s.replace('l', 'L')", "HeLLo, WorLd");
    check("$s.replaceAll('(o)', '[$1]')", "Hell[o], W[o]rld");
    check("$s.matches('H.*d')|$s.matches('ello')", "true|false");
    check("$s.split(', ')", r#"["Hello","World"]"#);
    check("$s.charAt(1)|$s.equalsIgnoreCase('hello, world')", "e|true");
    check("#if($s.isEmpty())e#{else}ne#end", "ne");
}

#[test]
fn lines_mode_whitespace() {
    let f = Fixture::new(r#"{"xs": [1, 2]}"#);
    let t = "{\n  \"xs\": [\n    #foreach($x in $input.path('$.xs'))\n    $x#if($foreach.hasNext),#end\n    #end\n  ]\n  #set($y = 1)\n}\n";
    assert_eq!(f.render(t), "{\n  \"xs\": [\n    1,\n    2\n  ]\n}\n");
    assert_eq!(
        f.render("a ## comment\nb\n  ## alone\nc#* block\n *#d"),
        "a b\nc".to_owned() + "d"
    );
    assert_eq!(f.render("#[[$not #if]]#"), "$not #if");
}

#[test]
fn a_typical_lambda_custom_integration_template() {
    // The common "pass everything through" template (uses keySet, get, escapeJavaScript).
    let t = r#"#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : { "env": "$stageVariables.env" },
"context" : { "request-id" : "$context.requestId", "source-ip" : "$context.identity.sourceIp" }
}"#;
    let out = r(r#"{"k": [1]}"#, t);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["body-json"], json!({"k": [1]}));
    assert_eq!(v["params"]["path"]["id"], json!("42"));
    assert_eq!(v["params"]["querystring"]["q"], json!("a b"));
    assert_eq!(v["params"]["header"]["X-Trace"], json!("t-1"));
    assert_eq!(v["stage-variables"]["env"], json!("dev"));
    assert_eq!(v["context"]["source-ip"], json!("127.0.0.1"));
}

#[test]
fn parse_errors_carry_positions() {
    let f = Fixture::new("{}");
    let e = f.render_err("line1\n#if($a == 1)x");
    assert!(e.contains("#if without #end"), "{e}");
    let e = f.render_err("ok\n  #end");
    assert!(e.contains("line 2"), "{e}");
    assert!(f.render_err("#set($a = )").contains("unexpected"));
    assert!(f.render_err("#macro(x)#end").contains("not supported"));
    assert!(f.render_err("#foreach($a on $b)#end").contains("'in'"));
    assert!(f.render_err("$input.nope()").contains("no method"));
    assert!(f.render_err("$input.path('$.a[0')").contains("JSONPath"));
}

#[test]
fn set_writes_into_context_overrides() {
    let mut f = Fixture::new(
        r#"{"__type": "ProvisionedThroughputExceededException", "message": "slow down"}"#,
    );
    f.context["responseOverride"] = json!({"header": {}});
    let t = Template::parse(
        "#set($type = \"$!input.path('$.__type')\")\n#if($type.endsWith(\"ThroughputExceededException\"))\n#set($context.responseOverride.status = 429)\n#set($context.responseOverride.header['Retry-After'] = '1')\n#end\n{\"message\": $input.json('$.message')}",
    )
    .unwrap();
    let (out, ctx) = t
        .render_with_context(&TemplateInput {
            body: &f.body,
            params: &f.params,
            context: &f.context,
            stage_variables: &f.stage,
        })
        .unwrap();
    assert_eq!(out, "{\"message\": \"slow down\"}");
    assert_eq!(ctx["responseOverride"]["status"], json!(429));
    assert_eq!(ctx["responseOverride"]["header"]["Retry-After"], json!("1"));
}

#[test]
fn interpolated_jsonpath_with_foreach_index() {
    // From the pattern's put-records template: the JSONPath is built inside a "…" string.
    let f = Fixture::new(r#"{"records": [{"partitionKey": "a\"b"}, {"partitionKey": "c"}]}"#);
    assert_eq!(
        f.render("#foreach($e in $input.path('$.records'))$input.json(\"$.records[$foreach.index].partitionKey\")#if($foreach.hasNext),#end#end"),
        r#""a\"b","c""#
    );
}

/// The pattern 1 Terraform module's templates, read from infra/ so that a change there is
/// exercised here.
fn module_template(name: &str) -> String {
    let path = format!(
        "{}/../../infra/modules/apigw-kinesis-proxy/templates/{name}",
        // At run time first: a test binary built from a copy of the tree still reads this one.
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("${stream_name}", "demo-stream")
}

fn render_module(name: &str, body: &str) -> (Value, Value) {
    let mut f = Fixture::new(body);
    f.context["responseOverride"] = json!({"header": {}});
    let t = Template::parse(&module_template(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (out, ctx) = t
        .render_with_context(&TemplateInput {
            body: &f.body,
            params: &f.params,
            context: &f.context,
            stage_variables: &f.stage,
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
    (v, ctx)
}

#[test]
fn module_put_record_request_template() {
    let (v, _) = render_module(
        "put-record.request.vtl",
        r#"{"data": "hello \"world\"", "partitionKey": "pk \"1\""}"#,
    );
    assert_eq!(
        v,
        json!({"StreamName": "demo-stream", "Data": "aGVsbG8gIndvcmxkIg==", "PartitionKey": "pk \"1\""})
    );
}

#[test]
fn module_put_records_request_template() {
    let (v, _) = render_module(
        "put-records.request.vtl",
        r#"{"records": [{"data": "a", "partitionKey": "k1"}, {"data": "b", "partitionKey": "k\"2"}]}"#,
    );
    assert_eq!(
        v,
        json!({"StreamName": "demo-stream", "Records": [
            {"Data": "YQ==", "PartitionKey": "k1"},
            {"Data": "Yg==", "PartitionKey": "k\"2"}
        ]})
    );
}

#[test]
fn module_success_response_templates() {
    let (v, _) = render_module(
        "put-record.response.vtl",
        r#"{"SequenceNumber": "4960", "ShardId": "shardId-000000000001", "EncryptionType": "KMS"}"#,
    );
    assert_eq!(
        v,
        json!({"SequenceNumber": "4960", "ShardId": "shardId-000000000001"})
    );
    let (v, _) = render_module(
        "put-records.response.vtl",
        r#"{"FailedRecordCount": 1, "Records": [{"SequenceNumber": "1", "ShardId": "s"}, {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}]}"#,
    );
    assert_eq!(v["FailedRecordCount"], json!(1));
    assert_eq!(
        v["Records"][1]["ErrorCode"],
        json!("ProvisionedThroughputExceededException")
    );
}

#[test]
fn module_client_error_template_maps_throttling_to_429() {
    let (v, ctx) = render_module(
        "client-error.response.vtl",
        r#"{"__type": "ProvisionedThroughputExceededException", "message": "Rate exceeded for shard"}"#,
    );
    assert_eq!(ctx["responseOverride"]["status"], json!(429));
    assert_eq!(v["message"], json!("Rate exceeded for shard"));
    assert_eq!(v["type"], json!("ProvisionedThroughputExceededException"));
    assert_eq!(
        v["requestId"],
        json!("c0ffee00-0000-4000-8000-000000000000")
    );

    let (v, ctx) = render_module(
        "client-error.response.vtl",
        r#"{"__type": "ValidationException", "message": "1 validation error"}"#,
    );
    assert_eq!(ctx["responseOverride"].get("status"), None);
    assert_eq!(v["message"], json!("1 validation error"));

    let (v, ctx) = render_module(
        "client-error.response.vtl",
        r#"{"__type": "ResourceNotFoundException", "message": "Stream x under account 1 not found."}"#,
    );
    assert_eq!(ctx["responseOverride"]["status"], json!(500));
    assert_eq!(v["message"], json!("The stream proxy is misconfigured"));

    let (v, _) = render_module(
        "client-error.response.vtl",
        r#"{"Message": "User is not authorized"}"#,
    );
    assert_eq!(v["message"], json!("User is not authorized"));
    let (v, _) = render_module("client-error.response.vtl", "{}");
    assert_eq!(v["message"], json!("Kinesis rejected the request"));
    assert_eq!(v["type"], json!(""));
}

#[test]
fn module_server_error_template() {
    let (v, _) = render_module(
        "server-error.response.vtl",
        r#"{"__type": "InternalFailure"}"#,
    );
    assert_eq!(
        v["message"],
        json!("Kinesis is unavailable, retry with backoff")
    );
    assert_eq!(v["type"], json!("InternalFailure"));
}

#[test]
fn set_to_null_keeps_the_previous_value() {
    let f = Fixture::new(r#"{"xs": [{"v": "a"}, {}, {"v": "c"}]}"#);
    assert_eq!(f.render("#set($x = 1)#set($x = $nothing)$x"), "1");
    assert_eq!(
        f.render("#foreach($e in $input.path('$.xs'))#set($v = $e.v)$v#end"),
        "aac",
        "the Velocity 1.7 gotcha templates must guard against"
    );
}

#[test]
fn module_put_records_whitespace_is_tidy() {
    // Directives alone on their lines leave no blank lines behind (Velocity's "lines" mode).
    let f = Fixture::new(
        r#"{"records": [{"data": "a", "partitionKey": "k1"}, {"data": "b", "partitionKey": "k2"}]}"#,
    );
    let out = f.render(&module_template("put-records.request.vtl"));
    assert_eq!(
        out,
        "{\n  \"StreamName\": \"demo-stream\",\n  \"Records\": [\n    {\n      \"Data\": \"YQ==\",\n      \"PartitionKey\": \"k1\"\n    },\n    {\n      \"Data\": \"Yg==\",\n      \"PartitionKey\": \"k2\"\n    }\n  ]\n}\n"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Template-ish text: the characters the parser treats specially, plus words.
    fn template_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "$",
            "#",
            "!",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            "'",
            "\"",
            ".",
            ",",
            "=",
            "\\",
            "\n",
            " ",
            "*",
            "+",
            "-",
            "..",
            "#if(",
            "#else",
            "#elseif(",
            "#end",
            "#foreach(",
            " in ",
            "#set(",
            "#break",
            "#{end}",
            "$a",
            "$!b",
            "${c}",
            "$input.path('$.x')",
            "$input.json('$')",
            "$util.base64Encode(",
            "$foreach.hasNext",
            "##",
            "#*",
            "*#",
            "#[[",
            "]]#",
            "x",
            "1",
            "true",
            "==",
            "&&",
            "||",
            "$context.stage",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any input either parses or is rejected with an error; rendering never panics.
        #[test]
        fn parser_and_evaluator_never_panic(src in template_text(), body in "[ -~]{0,40}") {
            if let Ok(t) = Template::parse(&src) {
                let f = Fixture::new(&body);
                let _ = t.render(&TemplateInput {
                    body: &f.body,
                    params: &f.params,
                    context: &f.context,
                    stage_variables: &f.stage,
                });
            }
        }

        /// Text without `$`, `#` or `\` renders as itself.
        #[test]
        fn plain_text_is_unchanged(text in "[^$#\\\\]{0,200}") {
            prop_assert_eq!(Fixture::new("{}").render(&text), text);
        }
    }
}

#[test]
fn property_names_may_hold_hyphens() {
    // Velocity 1.7 identifiers hold `-`: one property `X-Amz-Target`, not `X` minus text.
    let out = r(
        r#"{"h": {"X-Amz-Target": "a.b"}}"#,
        "#set($h = $input.path('$.h'))$h.X-Amz-Target|$h.X-Missing|$context.stage",
    );
    assert_eq!(out, "a.b||prod");
}
