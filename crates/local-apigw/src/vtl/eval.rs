//! The evaluator: walks the syntax tree over `serde_json::Value`s.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Number, Value};

use super::TemplateInput;
use super::ast::{Accessor, BinaryOp, Expr, Node, Reference, UnaryOp};
use super::util::{
    base64_decode, base64_encode, escape_javascript, java_string, url_decode, url_encode,
};
use crate::error::{ApigwError, Result};
use crate::jsonpath::JsonPath;

/// Upper bound on `#foreach` iterations per render, against runaway templates.
pub(crate) const MAX_ITERATIONS: usize = 100_000;

/// A runtime value: JSON data, or one of the built-in objects.
#[derive(Debug, Clone)]
enum Val {
    J(Value),
    Input,
    Util,
}

impl Val {
    fn null() -> Self {
        Val::J(Value::Null)
    }
    fn string(s: impl Into<String>) -> Self {
        Val::J(Value::String(s.into()))
    }
}

enum Flow {
    Normal,
    Break,
    Stop,
}

/// A path step for in-place mutation (`$map.put`, `$list.add`, `#set($a.b = …)`).
enum Key {
    Name(String),
    Index(i64),
}

pub(crate) struct Evaluator<'a> {
    input: &'a TemplateInput<'a>,
    body_json: OnceLock<Value>,
    vars: HashMap<String, Val>,
    iterations: usize,
}

fn err(message: impl Into<String>) -> ApigwError {
    ApigwError::Eval(message.into())
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(input: &'a TemplateInput<'a>) -> Self {
        let mut vars = HashMap::new();
        vars.insert("input".to_owned(), Val::Input);
        vars.insert("util".to_owned(), Val::Util);
        vars.insert("context".to_owned(), Val::J(input.context.clone()));
        let stage: Map<String, Value> = input
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        vars.insert("stageVariables".to_owned(), Val::J(Value::Object(stage)));
        Self {
            input,
            body_json: OnceLock::new(),
            vars,
            iterations: 0,
        }
    }

    /// `$context` after rendering.
    pub(crate) fn into_context(mut self) -> Value {
        match self.vars.remove("context") {
            Some(Val::J(v)) => v,
            _ => Value::Null,
        }
    }

    pub(crate) fn render(&mut self, nodes: &[Node]) -> Result<String> {
        let mut out = String::new();
        self.render_nodes(nodes, &mut out)?;
        Ok(out)
    }

    /// `$input.body`: an empty payload reads as `{}`, as API Gateway gives it.
    fn body(&self) -> &str {
        if self.input.body.is_empty() {
            "{}"
        } else {
            self.input.body
        }
    }

    /// The body parsed as JSON (null when not JSON).
    fn body_json(&self) -> &Value {
        self.body_json
            .get_or_init(|| serde_json::from_str(self.body()).unwrap_or(Value::Null))
    }

    fn render_nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow> {
        for node in nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Ref(r) => {
                    let v = self.eval_ref(r)?;
                    match v {
                        // API Gateway renders an unresolved or null reference as nothing
                        // (stock Velocity would print its source text).
                        Val::J(Value::Null) => {}
                        Val::J(v) => out.push_str(&java_string(&v)),
                        Val::Input | Val::Util => out.push_str(&r.source),
                    }
                }
                Node::Set { target, value } => {
                    let v = self.eval_expr(value)?;
                    // Velocity 1.7 (API Gateway's): `#set` to null leaves the target unchanged.
                    if !matches!(v, Val::J(Value::Null)) {
                        self.assign(target, v)?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = None;
                    for (cond, body) in branches {
                        if truthy(&self.eval_expr(cond)?) {
                            taken = Some(body);
                            break;
                        }
                    }
                    if let Some(body) = taken.or(otherwise.as_ref()) {
                        match self.render_nodes(body, out)? {
                            Flow::Normal => {}
                            other => return Ok(other),
                        }
                    }
                }
                Node::Foreach {
                    var,
                    iterable,
                    body,
                } => {
                    let items = match self.eval_expr(iterable)? {
                        Val::J(Value::Array(a)) => a,
                        Val::J(Value::Object(o)) => o.into_iter().map(|(_, v)| v).collect(),
                        _ => Vec::new(),
                    };
                    let saved_var = self.vars.get(var).cloned();
                    let saved_foreach = self.vars.get("foreach").cloned();
                    let saved_count = self.vars.get("velocityCount").cloned();
                    let n = items.len();
                    let mut flow = Flow::Normal;
                    for (index, item) in items.into_iter().enumerate() {
                        self.iterations += 1;
                        if self.iterations > MAX_ITERATIONS {
                            return Err(err(format!(
                                "more than {MAX_ITERATIONS} #foreach iterations"
                            )));
                        }
                        self.vars.insert(var.clone(), Val::J(item));
                        let mut state = Map::new();
                        state.insert("index".into(), Value::from(index));
                        state.insert("count".into(), Value::from(index + 1));
                        state.insert("hasNext".into(), Value::Bool(index + 1 < n));
                        state.insert("first".into(), Value::Bool(index == 0));
                        state.insert("last".into(), Value::Bool(index + 1 == n));
                        self.vars
                            .insert("foreach".into(), Val::J(Value::Object(state)));
                        self.vars
                            .insert("velocityCount".into(), Val::J(Value::from(index + 1)));
                        match self.render_nodes(body, out)? {
                            Flow::Normal => {}
                            Flow::Break => break,
                            Flow::Stop => {
                                flow = Flow::Stop;
                                break;
                            }
                        }
                    }
                    restore(&mut self.vars, var, saved_var);
                    restore(&mut self.vars, "foreach", saved_foreach);
                    restore(&mut self.vars, "velocityCount", saved_count);
                    if let Flow::Stop = flow {
                        return Ok(Flow::Stop);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Stop => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn assign(&mut self, target: &Reference, v: Val) -> Result<()> {
        if target.accessors.is_empty() {
            self.vars.insert(target.root.clone(), v);
            return Ok(());
        }
        let Val::J(value) = v else {
            return Err(err("cannot store $input or $util inside a map"));
        };
        let keys = self.keys(&target.accessors)?;
        let (last, parents) = keys.split_last().ok_or_else(|| err("empty #set target"))?;
        let Some(container) = self.lookup_mut(&target.root, parents) else {
            return Ok(()); // Velocity leaves an unresolvable target alone.
        };
        match (container, last) {
            (Value::Object(o), Key::Name(k)) => {
                o.insert(k.clone(), value);
            }
            (Value::Array(a), Key::Index(i)) => {
                if let Some(slot) = index_of(a.len(), *i).and_then(|i| a.get_mut(i)) {
                    *slot = value;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Evaluates property and index accessors to keys (no method calls allowed).
    fn keys(&mut self, accessors: &[Accessor]) -> Result<Vec<Key>> {
        accessors
            .iter()
            .map(|a| match a {
                Accessor::Property(p) => Ok(Key::Name(p.clone())),
                Accessor::Index(e) => match self.eval_expr(e)? {
                    Val::J(Value::Number(n)) => Ok(Key::Index(n.as_i64().unwrap_or(-1))),
                    Val::J(Value::String(s)) => Ok(Key::Name(s)),
                    _ => Err(err("index must be a number or a string")),
                },
                Accessor::Method(..) => Err(err("cannot assign through a method call")),
            })
            .collect()
    }

    fn lookup_mut(&mut self, root: &str, keys: &[Key]) -> Option<&mut Value> {
        let Some(Val::J(cur)) = self.vars.get_mut(root) else {
            return None;
        };
        let mut cur = cur;
        for k in keys {
            cur = match (cur, k) {
                (Value::Object(o), Key::Name(n)) => o.get_mut(n)?,
                (Value::Array(a), Key::Index(i)) => {
                    let i = index_of(a.len(), *i)?;
                    a.get_mut(i)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    fn eval_ref(&mut self, r: &Reference) -> Result<Val> {
        // Mutating calls work in place on the variable they are called on.
        if let Some((Accessor::Method(name, args), parents)) = r.accessors.split_last()
            && matches!(
                name.as_str(),
                "put" | "add" | "remove" | "putAll" | "addAll" | "clear"
            )
            && parents.iter().all(|a| !matches!(a, Accessor::Method(..)))
            && matches!(self.vars.get(&r.root), Some(Val::J(_)))
        {
            let args: Vec<Value> = args
                .iter()
                .map(|a| self.eval_expr(a).map(into_json))
                .collect::<Result<_>>()?;
            let keys = self.keys(parents)?;
            let Some(target) = self.lookup_mut(&r.root, &keys) else {
                return Ok(Val::null());
            };
            return mutate(target, name, args).map(Val::J);
        }
        let mut cur = match self.vars.get(&r.root) {
            Some(v) => v.clone(),
            None => return Ok(Val::null()),
        };
        for acc in &r.accessors {
            if matches!(cur, Val::J(Value::Null)) {
                return Ok(Val::null());
            }
            cur = match acc {
                Accessor::Property(name) => self.property(cur, name)?,
                Accessor::Method(name, args) => {
                    let args: Vec<Val> = args
                        .iter()
                        .map(|a| self.eval_expr(a))
                        .collect::<Result<_>>()?;
                    self.method(cur, name, args)?
                }
                Accessor::Index(e) => {
                    let idx = self.eval_expr(e)?;
                    match (cur, idx) {
                        (Val::J(Value::Array(a)), Val::J(Value::Number(n))) => n
                            .as_i64()
                            .and_then(|i| index_of(a.len(), i))
                            .and_then(|i| a.get(i).cloned())
                            .map(Val::J)
                            .unwrap_or(Val::null()),
                        (Val::J(Value::Object(o)), Val::J(k)) => {
                            Val::J(o.get(&java_string(&k)).cloned().unwrap_or(Value::Null))
                        }
                        _ => Val::null(),
                    }
                }
            };
        }
        Ok(cur)
    }

    fn property(&mut self, cur: Val, name: &str) -> Result<Val> {
        Ok(match cur {
            Val::Input => match name {
                "body" => Val::string(self.body()),
                _ => Val::null(),
            },
            Val::Util => Val::null(),
            Val::J(Value::Object(mut o)) => Val::J(o.remove(name).unwrap_or(Value::Null)),
            // Java bean getters: `$list.empty` → isEmpty(), `$s.bytes` is not supported.
            Val::J(v) if name == "empty" => Val::J(Value::Bool(is_empty(&v))),
            Val::J(Value::Array(a)) if name == "size" => Val::J(Value::from(a.len())),
            Val::J(_) => Val::null(),
        })
    }

    fn method(&mut self, cur: Val, name: &str, args: Vec<Val>) -> Result<Val> {
        let arity = |n: usize| -> Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(err(format!(
                    "{name}() takes {n} argument(s), got {}",
                    args.len()
                )))
            }
        };
        match cur {
            Val::Input => match name {
                "path" | "json" => {
                    arity(1)?;
                    let path = arg_string(&args[0], name)?;
                    let compiled = JsonPath::parse(&path)?;
                    let found = compiled.eval(self.body_json());
                    // A path that does not resolve: `$input.path` gives null (rendered as
                    // nothing, `== $null`), `$input.json` an empty string.
                    Ok(match (name, found) {
                        ("path", None) => Val::null(),
                        (_, None) => Val::string(""),
                        ("path", Some(v)) => Val::J(v),
                        (_, Some(v)) => Val::string(v.to_string()),
                    })
                }
                "params" => match args.len() {
                    0 => {
                        let p = &self.input.params;
                        let m = |x: &std::collections::BTreeMap<String, String>| {
                            Value::Object(
                                x.iter()
                                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                                    .collect(),
                            )
                        };
                        let mut all = Map::new();
                        all.insert("path".into(), m(&p.path));
                        all.insert("querystring".into(), m(&p.querystring));
                        all.insert("header".into(), m(&p.header));
                        Ok(Val::J(Value::Object(all)))
                    }
                    1 => {
                        let key = arg_string(&args[0], name)?;
                        let p = &self.input.params;
                        let found = p
                            .path
                            .get(&key)
                            .or_else(|| p.querystring.get(&key))
                            .or_else(|| {
                                p.header
                                    .iter()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                                    .map(|(_, v)| v)
                            })
                            .cloned()
                            .unwrap_or_default();
                        Ok(Val::string(found))
                    }
                    n => Err(err(format!("params() takes 0 or 1 argument, got {n}"))),
                },
                "getBody" => Ok(Val::string(self.body())),
                _ => Err(err(format!("$input has no method {name}()"))),
            },
            Val::Util => {
                arity(1)?;
                if let Val::J(Value::Null) = args[0] {
                    // `$util.urlEncode($input.body.missing)` renders nothing on API Gateway.
                    return Ok(Val::null());
                }
                let s = arg_string(&args[0], name)?;
                match name {
                    "escapeJavaScript" => Ok(Val::string(escape_javascript(&s))),
                    "base64Encode" => Ok(Val::string(base64_encode(&s))),
                    "base64Decode" => base64_decode(&s).map(Val::string).map_err(err),
                    "urlEncode" => Ok(Val::string(url_encode(&s))),
                    "urlDecode" => url_decode(&s).map(Val::string).map_err(err),
                    "parseJson" => serde_json::from_str(&s)
                        .map(Val::J)
                        .map_err(|e| err(format!("parseJson: {e}"))),
                    _ => Err(err(format!("$util has no method {name}()"))),
                }
            }
            Val::J(v) => value_method(v, name, args.into_iter().map(into_json).collect()),
        }
    }

    fn eval_expr(&mut self, e: &Expr) -> Result<Val> {
        Ok(match e {
            Expr::Literal(v) => Val::J(v.clone()),
            Expr::Interpolated(nodes) => {
                let mut s = String::new();
                self.render_nodes(nodes, &mut s)?;
                Val::string(s)
            }
            Expr::Ref(r) => self.eval_ref(r)?,
            Expr::List(items) => Val::J(Value::Array(
                items
                    .iter()
                    .map(|i| self.eval_expr(i).map(into_json))
                    .collect::<Result<_>>()?,
            )),
            Expr::Range(a, b) => {
                let a = as_i64(&self.eval_expr(a)?)
                    .ok_or_else(|| err("range bounds must be integers"))?;
                let b = as_i64(&self.eval_expr(b)?)
                    .ok_or_else(|| err("range bounds must be integers"))?;
                if a.abs_diff(b) as usize > MAX_ITERATIONS {
                    return Err(err("range too large"));
                }
                let v: Vec<Value> = if a <= b {
                    (a..=b).map(Value::from).collect()
                } else {
                    (b..=a).rev().map(Value::from).collect()
                };
                Val::J(Value::Array(v))
            }
            Expr::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    let k = java_string(&into_json(self.eval_expr(k)?));
                    let v = into_json(self.eval_expr(v)?);
                    m.insert(k, v);
                }
                Val::J(Value::Object(m))
            }
            Expr::Unary(UnaryOp::Not, x) => Val::J(Value::Bool(!truthy(&self.eval_expr(x)?))),
            Expr::Unary(UnaryOp::Neg, x) => {
                let v = into_json(self.eval_expr(x)?);
                arith(BinaryOp::Sub, &Value::from(0), &v)
            }
            Expr::Binary(BinaryOp::Or, a, b) => Val::J(Value::Bool(
                truthy(&self.eval_expr(a)?) || truthy(&self.eval_expr(b)?),
            )),
            Expr::Binary(BinaryOp::And, a, b) => Val::J(Value::Bool(
                truthy(&self.eval_expr(a)?) && truthy(&self.eval_expr(b)?),
            )),
            Expr::Binary(op, a, b) => {
                let a = into_json(self.eval_expr(a)?);
                let b = into_json(self.eval_expr(b)?);
                match op {
                    BinaryOp::Eq => Val::J(Value::Bool(velocity_eq(&a, &b))),
                    BinaryOp::Ne => Val::J(Value::Bool(!velocity_eq(&a, &b))),
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                        let ord = compare(&a, &b);
                        Val::J(Value::Bool(match (op, ord) {
                            (_, None) => false,
                            (BinaryOp::Lt, Some(o)) => o.is_lt(),
                            (BinaryOp::Le, Some(o)) => o.is_le(),
                            (BinaryOp::Gt, Some(o)) => o.is_gt(),
                            (_, Some(o)) => o.is_ge(),
                        }))
                    }
                    _ => arith(*op, &a, &b),
                }
            }
        })
    }
}

fn restore(vars: &mut HashMap<String, Val>, name: &str, saved: Option<Val>) {
    match saved {
        Some(v) => vars.insert(name.to_owned(), v),
        None => vars.remove(name),
    };
}

fn into_json(v: Val) -> Value {
    match v {
        Val::J(v) => v,
        Val::Input | Val::Util => Value::Null,
    }
}

fn index_of(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

fn arg_string(v: &Val, method: &str) -> Result<String> {
    match v {
        Val::J(v) => Ok(java_string(v)),
        _ => Err(err(format!("{method}() cannot take $input or $util"))),
    }
}

fn as_i64(v: &Val) -> Option<i64> {
    match v {
        Val::J(Value::Number(n)) => n.as_i64(),
        Val::J(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Velocity 1.7 truthiness: null and `false` are false, everything else is true.
fn truthy(v: &Val) -> bool {
    match v {
        Val::J(Value::Null) => false,
        Val::J(Value::Bool(b)) => *b,
        _ => true,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Velocity's `==`: numbers numerically, same types by value, otherwise by `toString()`;
/// null equals null and, on API Gateway, the empty string (`#if($missing == "")` is true).
fn velocity_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.is_empty(),
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => java_string(a) == java_string(b),
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Arithmetic: integers stay integers (Java `int`/`long` semantics, integer division), floats
/// otherwise; `+` with a string concatenates; anything else is null.
fn arith(op: BinaryOp, a: &Value, b: &Value) -> Val {
    if op == BinaryOp::Add && (a.is_string() || b.is_string()) {
        if a.is_null() || b.is_null() {
            return Val::null();
        }
        return Val::string(java_string(a) + &java_string(b));
    }
    let (Value::Number(x), Value::Number(y)) = (a, b) else {
        return Val::null();
    };
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        let r = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Div => x.checked_div(y),
            BinaryOp::Mod => x.checked_rem(y),
            _ => None,
        };
        return r.map(|r| Val::J(Value::from(r))).unwrap_or(Val::null());
    }
    let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) else {
        return Val::null();
    };
    let r = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div if y != 0.0 => x / y,
        BinaryOp::Mod if y != 0.0 => x % y,
        _ => return Val::null(),
    };
    Number::from_f64(r)
        .map(|n| Val::J(Value::Number(n)))
        .unwrap_or(Val::null())
}

fn mutate(target: &mut Value, name: &str, args: Vec<Value>) -> Result<Value> {
    let mut args = args.into_iter();
    let mut next = || {
        args.next()
            .ok_or_else(|| err(format!("{name}() needs more arguments")))
    };
    match (target, name) {
        (Value::Object(o), "put") => {
            let k = java_string(&next()?);
            Ok(o.insert(k, next()?).unwrap_or(Value::Null))
        }
        (Value::Object(o), "remove") => Ok(o.remove(&java_string(&next()?)).unwrap_or(Value::Null)),
        (Value::Object(o), "putAll") => {
            if let Value::Object(other) = next()? {
                o.extend(other);
            }
            Ok(Value::Null)
        }
        (Value::Object(o), "clear") => {
            o.clear();
            Ok(Value::Null)
        }
        (Value::Array(a), "add") => {
            a.push(next()?);
            Ok(Value::Bool(true))
        }
        (Value::Array(a), "addAll") => {
            if let Value::Array(other) = next()? {
                a.extend(other);
            }
            Ok(Value::Bool(true))
        }
        (Value::Array(a), "remove") => match next()? {
            Value::Number(n) => Ok(n
                .as_i64()
                .and_then(|i| index_of(a.len(), i))
                .map(|i| a.remove(i))
                .unwrap_or(Value::Null)),
            v => {
                let pos = a.iter().position(|x| velocity_eq(x, &v));
                Ok(Value::Bool(pos.map(|p| a.remove(p)).is_some()))
            }
        },
        (Value::Array(a), "clear") => {
            a.clear();
            Ok(Value::Null)
        }
        _ => Ok(Value::Null),
    }
}

/// Methods of strings, numbers, booleans, lists and maps (the `java.lang`/`java.util` ones
/// templates use).
fn value_method(v: Value, name: &str, args: Vec<Value>) -> Result<Val> {
    let arg_str = |i: usize| -> Result<String> {
        args.get(i)
            .map(java_string)
            .ok_or_else(|| err(format!("{name}() needs {} argument(s)", i + 1)))
    };
    let arg_int = |i: usize| -> Result<i64> {
        args.get(i)
            .and_then(|a| match a {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .ok_or_else(|| err(format!("{name}() needs an integer argument")))
    };
    // Methods every object has.
    match name {
        "toString" => return Ok(Val::string(java_string(&v))),
        "equals" => {
            return Ok(Val::J(Value::Bool(velocity_eq(
                &v,
                args.first().unwrap_or(&Value::Null),
            ))));
        }
        _ => {}
    }
    let out = match &v {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            match name {
                "length" => Value::from(s.encode_utf16().count()),
                "isEmpty" => Value::Bool(s.is_empty()),
                "trim" => Value::String(s.trim().to_owned()),
                "toLowerCase" => Value::String(s.to_lowercase()),
                "toUpperCase" => Value::String(s.to_uppercase()),
                "contains" => Value::Bool(s.contains(&arg_str(0)?)),
                "startsWith" => Value::Bool(s.starts_with(&arg_str(0)?)),
                "endsWith" => Value::Bool(s.ends_with(&arg_str(0)?)),
                "equalsIgnoreCase" => Value::Bool(s.to_lowercase() == arg_str(0)?.to_lowercase()),
                "indexOf" => {
                    let needle = arg_str(0)?;
                    Value::from(
                        s.find(&needle)
                            .map(|b| s[..b].chars().count() as i64)
                            .unwrap_or(-1),
                    )
                }
                "lastIndexOf" => {
                    let needle = arg_str(0)?;
                    Value::from(
                        s.rfind(&needle)
                            .map(|b| s[..b].chars().count() as i64)
                            .unwrap_or(-1),
                    )
                }
                "charAt" => {
                    let i = arg_int(0)?;
                    Value::String(
                        index_of(chars.len(), i)
                            .filter(|_| i >= 0)
                            .map(|i| chars[i].to_string())
                            .ok_or_else(|| err("charAt: index out of range"))?,
                    )
                }
                "substring" => {
                    let begin = arg_int(0)?;
                    let end = if args.len() > 1 {
                        arg_int(1)?
                    } else {
                        chars.len() as i64
                    };
                    if begin < 0 || end > chars.len() as i64 || begin > end {
                        return Err(err(format!(
                            "substring({begin}, {end}) out of range for length {}",
                            chars.len()
                        )));
                    }
                    Value::String(chars[begin as usize..end as usize].iter().collect())
                }
                "replace" => Value::String(s.replace(&arg_str(0)?, &arg_str(1)?)),
                "replaceAll" | "replaceFirst" | "matches" | "split" => {
                    let re = regex::Regex::new(&arg_str(0)?)
                        .map_err(|e| err(format!("{name}(): bad regular expression: {e}")))?;
                    match name {
                        "replaceAll" => Value::String(
                            re.replace_all(s, java_replacement(&arg_str(1)?).as_str())
                                .into_owned(),
                        ),
                        "replaceFirst" => Value::String(
                            re.replace(s, java_replacement(&arg_str(1)?).as_str())
                                .into_owned(),
                        ),
                        "matches" => Value::Bool(
                            re.find(s)
                                .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
                        ),
                        _ => {
                            let mut parts: Vec<Value> =
                                re.split(s).map(|p| Value::String(p.to_owned())).collect();
                            // Java drops trailing empty strings.
                            while parts.last().is_some_and(|p| p.as_str() == Some("")) {
                                parts.pop();
                            }
                            Value::Array(parts)
                        }
                    }
                }
                "concat" => Value::String(format!("{s}{}", arg_str(0)?)),
                _ => return Err(err(format!("strings have no method {name}()"))),
            }
        }
        Value::Array(a) => match name {
            "size" => Value::from(a.len()),
            "isEmpty" => Value::Bool(a.is_empty()),
            "get" => {
                let i = arg_int(0)?;
                index_of(a.len(), i)
                    .filter(|_| i >= 0)
                    .map(|i| a[i].clone())
                    .ok_or_else(|| err(format!("get({i}): index out of range")))?
            }
            "contains" => Value::Bool(
                a.iter()
                    .any(|x| velocity_eq(x, args.first().unwrap_or(&Value::Null))),
            ),
            "indexOf" => Value::from(
                a.iter()
                    .position(|x| velocity_eq(x, args.first().unwrap_or(&Value::Null)))
                    .map(|p| p as i64)
                    .unwrap_or(-1),
            ),
            _ => return Err(err(format!("lists have no method {name}()"))),
        },
        Value::Object(o) => match name {
            "size" => Value::from(o.len()),
            "isEmpty" => Value::Bool(o.is_empty()),
            "get" => o.get(&arg_str(0)?).cloned().unwrap_or(Value::Null),
            "containsKey" => Value::Bool(o.contains_key(&arg_str(0)?)),
            "keySet" => Value::Array(o.keys().map(|k| Value::String(k.clone())).collect()),
            "values" => Value::Array(o.values().cloned().collect()),
            "entrySet" => Value::Array(
                o.iter()
                    .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                    .collect(),
            ),
            _ => return Err(err(format!("maps have no method {name}()"))),
        },
        Value::Number(n) => match name {
            "intValue" | "longValue" => Value::from(n.as_f64().map(|f| f as i64).unwrap_or(0)),
            "doubleValue" | "floatValue" => n
                .as_f64()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            _ => return Err(err(format!("numbers have no method {name}()"))),
        },
        Value::Bool(b) => match name {
            "booleanValue" => Value::Bool(*b),
            _ => return Err(err(format!("booleans have no method {name}()"))),
        },
        Value::Null => Value::Null,
    };
    Ok(Val::J(out))
}

/// Java's `$1` group references work in Rust's regex as `${1}`.
fn java_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            c => out.push(c),
        }
    }
    out
}
