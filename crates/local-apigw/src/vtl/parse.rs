//! A scannerless recursive-descent parser for the Velocity subset.

use serde_json::Value;

use super::ast::{Accessor, BinaryOp, Expr, Node, Reference, UnaryOp};
use crate::error::{ApigwError, Result};

/// What ended a block.
enum Terminator {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

pub(crate) struct Parser {
    s: Vec<char>,
    i: usize,
}

/// Parses a whole template.
pub(crate) fn parse_template(src: &str) -> Result<Vec<Node>> {
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
    };
    let (nodes, term) = p.parse_block()?;
    match term {
        Terminator::Eof => Ok(nodes),
        Terminator::End => Err(p.error("#end without a matching #if or #foreach")),
        Terminator::Else | Terminator::ElseIf(_) => {
            Err(p.error("#else or #elseif without a matching #if"))
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A property name may also hold `-`, as Velocity 1.7's identifiers do: API Gateway reads
/// `$context.requestOverride.header.X-Amz-Target` as one property (recorded on AWS:
/// conformance/apigw/templates-eventbridge-put-events.json).
fn is_property_char(c: char) -> bool {
    is_ident_char(c) || c == '-'
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> ApigwError {
        let upto = &self.s[..self.i.min(self.s.len())];
        let line = upto.iter().filter(|&&c| c == '\n').count() + 1;
        let column = upto.iter().rev().take_while(|&&c| c != '\n').count() + 1;
        ApigwError::Template {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn starts_with(&self, lit: &str) -> bool {
        let n = lit.chars().count();
        self.s.len() >= self.i + n && self.s[self.i..self.i + n].iter().copied().eq(lit.chars())
    }

    /// Text mode: nodes until EOF or a block terminator.
    fn parse_block(&mut self) -> Result<(Vec<Node>, Terminator)> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        macro_rules! flush {
            () => {
                if !text.is_empty() {
                    nodes.push(Node::Text(std::mem::take(&mut text)));
                }
            };
        }
        while let Some(c) = self.peek() {
            match c {
                '\\' if matches!(self.peek_at(1), Some('$') | Some('#')) => {
                    // `\$ref` and `\#directive` render literally.
                    text.push(self.peek_at(1).unwrap_or_default());
                    self.i += 2;
                    while let Some(c) = self.peek().filter(|c| is_ident_char(*c)) {
                        text.push(c);
                        self.i += 1;
                    }
                }
                '$' => match self.try_reference(true)? {
                    Some(r) => {
                        flush!();
                        nodes.push(Node::Ref(r));
                    }
                    None => {
                        text.push('$');
                        self.i += 1;
                    }
                },
                '#' => {
                    let start = self.i;
                    if self.starts_with("##") {
                        let alone = self.line_prefix_blank(start);
                        while let Some(c) = self.peek() {
                            self.i += 1;
                            if c == '\n' {
                                break;
                            }
                        }
                        if alone {
                            trim_line_tail(&mut text);
                        }
                        continue;
                    }
                    if self.starts_with("#*") {
                        self.i += 2;
                        while self.i < self.s.len() && !self.starts_with("*#") {
                            self.i += 1;
                        }
                        if self.i >= self.s.len() {
                            return Err(self.error("unterminated #* comment"));
                        }
                        self.i += 2;
                        continue;
                    }
                    if self.starts_with("#[[") {
                        self.i += 3;
                        while self.i < self.s.len() && !self.starts_with("]]#") {
                            text.push(self.s[self.i]);
                            self.i += 1;
                        }
                        if self.i >= self.s.len() {
                            return Err(self.error("unterminated #[[ block"));
                        }
                        self.i += 3;
                        continue;
                    }
                    let Some(name) = self.directive_name() else {
                        text.push('#');
                        self.i += 1;
                        continue;
                    };
                    let alone_before = self.line_prefix_blank(start);
                    let node = match name.as_str() {
                        "set" => {
                            let (target, value) = self.parse_set_args()?;
                            Some(Node::Set { target, value })
                        }
                        "if" => {
                            let cond = self.parse_paren_expr("#if")?;
                            self.gobble(alone_before, &mut text);
                            flush!();
                            nodes.push(self.parse_if(cond)?);
                            continue;
                        }
                        "foreach" => {
                            let (var, iterable) = self.parse_foreach_args()?;
                            self.gobble(alone_before, &mut text);
                            flush!();
                            let (body, term) = self.parse_block()?;
                            if !matches!(term, Terminator::End) {
                                return Err(self.error("#foreach without #end"));
                            }
                            nodes.push(Node::Foreach {
                                var,
                                iterable,
                                body,
                            });
                            continue;
                        }
                        "break" => Some(Node::Break),
                        "stop" => Some(Node::Stop),
                        "end" => {
                            self.gobble(alone_before, &mut text);
                            flush!();
                            return Ok((nodes, Terminator::End));
                        }
                        "else" => {
                            self.gobble(alone_before, &mut text);
                            flush!();
                            return Ok((nodes, Terminator::Else));
                        }
                        "elseif" => {
                            let cond = self.parse_paren_expr("#elseif")?;
                            self.gobble(alone_before, &mut text);
                            flush!();
                            return Ok((nodes, Terminator::ElseIf(cond)));
                        }
                        "macro" | "define" | "parse" | "include" | "evaluate" => {
                            self.i = start;
                            return Err(self.error(format!(
                                "#{name} is not supported by the local mapping template engine"
                            )));
                        }
                        _ => None,
                    };
                    match node {
                        Some(n) => {
                            self.gobble(alone_before, &mut text);
                            flush!();
                            nodes.push(n);
                        }
                        None => {
                            // Not a directive: literal text.
                            self.i = start + 1;
                            text.push('#');
                        }
                    }
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        flush!();
        Ok((nodes, Terminator::Eof))
    }

    fn parse_if(&mut self, first: Expr) -> Result<Node> {
        let mut branches = Vec::new();
        let mut cond = first;
        loop {
            let (body, term) = self.parse_block()?;
            branches.push((cond, body));
            match term {
                Terminator::End => {
                    return Ok(Node::If {
                        branches,
                        otherwise: None,
                    });
                }
                Terminator::ElseIf(c) => cond = c,
                Terminator::Else => {
                    let (body, term) = self.parse_block()?;
                    if !matches!(term, Terminator::End) {
                        return Err(self.error("#else without #end"));
                    }
                    return Ok(Node::If {
                        branches,
                        otherwise: Some(body),
                    });
                }
                Terminator::Eof => return Err(self.error("#if without #end")),
            }
        }
    }

    /// Reads `#name` or `#{name}` at the cursor; leaves the cursor after it. `None` (cursor
    /// unchanged) when this is not a known directive.
    fn directive_name(&mut self) -> Option<String> {
        let start = self.i;
        let mut k = self.i + 1;
        let braced = self.s.get(k) == Some(&'{');
        if braced {
            k += 1;
        }
        let name_start = k;
        while self.s.get(k).is_some_and(|c| c.is_ascii_alphabetic()) {
            k += 1;
        }
        let name: String = self.s[name_start..k].iter().collect();
        const KNOWN: &[&str] = &[
            "set", "if", "elseif", "else", "end", "foreach", "break", "stop", "macro", "define",
            "parse", "include", "evaluate",
        ];
        if !KNOWN.contains(&name.as_str()) {
            return None;
        }
        if braced {
            if self.s.get(k) != Some(&'}') {
                return None;
            }
            k += 1;
        }
        self.i = k;
        let _ = start;
        Some(name)
    }

    /// Whether everything on the source line before `pos` is spaces or tabs.
    fn line_prefix_blank(&self, pos: usize) -> bool {
        self.s[..pos]
            .iter()
            .rev()
            .take_while(|&&c| c != '\n')
            .all(|&c| c == ' ' || c == '\t')
    }

    /// Velocity's "lines" whitespace gobbling: a directive alone on its line takes the line's
    /// indentation and its line break with it.
    fn gobble(&mut self, alone_before: bool, text: &mut String) {
        if !alone_before {
            return;
        }
        let mut k = self.i;
        while matches!(self.s.get(k), Some(' ') | Some('\t') | Some('\r')) {
            k += 1;
        }
        match self.s.get(k) {
            Some('\n') => {
                self.i = k + 1;
                trim_line_tail(text);
            }
            None => {
                self.i = k;
                trim_line_tail(text);
            }
            _ => {}
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{c}' {what}")))
        }
    }

    fn parse_paren_expr(&mut self, directive: &str) -> Result<Expr> {
        self.skip_inline_ws();
        self.expect('(', &format!("after {directive}"))?;
        let e = self.parse_expr()?;
        self.expect(')', &format!("to close {directive}"))?;
        Ok(e)
    }

    fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.i += 1;
        }
    }

    fn parse_set_args(&mut self) -> Result<(Reference, Expr)> {
        self.skip_inline_ws();
        self.expect('(', "after #set")?;
        self.skip_ws();
        if self.peek() != Some('$') {
            return Err(self.error("expected a $reference in #set"));
        }
        let target = self
            .try_reference(false)?
            .ok_or_else(|| self.error("expected a $reference in #set"))?;
        if target
            .accessors
            .iter()
            .any(|a| matches!(a, Accessor::Method(..)))
        {
            return Err(self.error("#set target cannot call a method"));
        }
        self.expect('=', "in #set")?;
        let value = self.parse_expr()?;
        self.expect(')', "to close #set")?;
        Ok((target, value))
    }

    fn parse_foreach_args(&mut self) -> Result<(String, Expr)> {
        self.skip_inline_ws();
        self.expect('(', "after #foreach")?;
        self.skip_ws();
        let var = self
            .try_reference(false)?
            .filter(|r| r.accessors.is_empty())
            .ok_or_else(|| self.error("expected a $variable in #foreach"))?;
        self.skip_ws();
        if !self.starts_with("in") || self.peek_at(2).is_some_and(is_ident_char) {
            return Err(self.error("expected 'in' in #foreach"));
        }
        self.i += 2;
        let iterable = self.parse_expr()?;
        self.expect(')', "to close #foreach")?;
        Ok((var.root, iterable))
    }

    /// At a `$`: parses a reference, or returns `None` (cursor unchanged) if none starts here.
    fn try_reference(&mut self, in_text: bool) -> Result<Option<Reference>> {
        let start = self.i;
        let mut k = self.i + 1;
        let quiet = self.s.get(k) == Some(&'!');
        if quiet {
            k += 1;
        }
        let formal = self.s.get(k) == Some(&'{');
        if formal {
            k += 1;
        }
        if !self.s.get(k).copied().is_some_and(is_ident_start) {
            return Ok(None);
        }
        let name_start = k;
        while self.s.get(k).copied().is_some_and(is_ident_char) {
            k += 1;
        }
        let root: String = self.s[name_start..k].iter().collect();
        self.i = k;
        let mut accessors = Vec::new();
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.i += 1;
                    let ns = self.i;
                    while self.peek().is_some_and(is_property_char) {
                        self.i += 1;
                    }
                    let name: String = self.s[ns..self.i].iter().collect();
                    if self.peek() == Some('(') {
                        self.i += 1;
                        let args = self.parse_args(')')?;
                        accessors.push(Accessor::Method(name, args));
                    } else {
                        accessors.push(Accessor::Property(name));
                    }
                }
                Some('[') => {
                    // In text, `$a[` starts an index only if it parses as one.
                    let save = self.i;
                    self.i += 1;
                    match self.parse_expr() {
                        Ok(e) => {
                            self.skip_ws();
                            if self.peek() == Some(']') {
                                self.i += 1;
                                accessors.push(Accessor::Index(e));
                            } else if in_text {
                                self.i = save;
                                break;
                            } else {
                                return Err(self.error("expected ']'"));
                            }
                        }
                        Err(e) => {
                            if in_text {
                                self.i = save;
                                break;
                            }
                            return Err(e);
                        }
                    }
                }
                _ => break,
            }
        }
        if formal {
            if self.peek() != Some('}') {
                if in_text {
                    // `${` that does not close is literal text.
                    self.i = start;
                    return Ok(None);
                }
                return Err(self.error("expected '}' to close ${…}"));
            }
            self.i += 1;
        }
        let source: String = self.s[start..self.i].iter().collect();
        Ok(Some(Reference {
            quiet,
            root,
            accessors,
            source,
        }))
    }

    fn parse_args(&mut self, close: char) -> Result<Vec<Expr>> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(args);
                }
                _ => return Err(self.error(format!("expected ',' or '{close}'"))),
            }
        }
    }

    fn parse_expr(&mut self) -> Result<Expr> {
        self.parse_or()
    }

    /// Matches an operator: symbols directly, word operators as whole words.
    fn eat_op(&mut self, ops: &[(&str, BinaryOp)]) -> Option<BinaryOp> {
        self.skip_ws();
        for (lit, op) in ops {
            if self.starts_with(lit) {
                let word = lit.chars().all(|c| c.is_ascii_alphabetic());
                let next = self.peek_at(lit.chars().count());
                if word && next.is_some_and(is_ident_char) {
                    continue;
                }
                // `=` alone is assignment, `<` must not eat `<=`, handled by order.
                self.i += lit.chars().count();
                return Some(*op);
            }
        }
        None
    }

    fn parse_or(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_and()?;
        while let Some(op) = self.eat_op(&[("||", BinaryOp::Or), ("or", BinaryOp::Or)]) {
            let rhs = self.parse_and()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_and(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_eq()?;
        while let Some(op) = self.eat_op(&[("&&", BinaryOp::And), ("and", BinaryOp::And)]) {
            let rhs = self.parse_eq()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_eq(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_rel()?;
        while let Some(op) = self.eat_op(&[
            ("==", BinaryOp::Eq),
            ("!=", BinaryOp::Ne),
            ("eq", BinaryOp::Eq),
            ("ne", BinaryOp::Ne),
        ]) {
            let rhs = self.parse_rel()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_rel(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_add()?;
        while let Some(op) = self.eat_op(&[
            ("<=", BinaryOp::Le),
            (">=", BinaryOp::Ge),
            ("<", BinaryOp::Lt),
            (">", BinaryOp::Gt),
            ("le", BinaryOp::Le),
            ("ge", BinaryOp::Ge),
            ("lt", BinaryOp::Lt),
            ("gt", BinaryOp::Gt),
        ]) {
            let rhs = self.parse_add()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_add(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_mul()?;
        while let Some(op) = self.eat_op(&[("+", BinaryOp::Add), ("-", BinaryOp::Sub)]) {
            let rhs = self.parse_mul()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_mul(&mut self) -> Result<Expr> {
        let mut lhs = self.parse_unary()?;
        while let Some(op) = self.eat_op(&[
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::Div),
            ("%", BinaryOp::Mod),
        ]) {
            let rhs = self.parse_unary()?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> Result<Expr> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.i += 1;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(self.parse_unary()?)));
        }
        if self.starts_with("not") && !self.peek_at(3).is_some_and(is_ident_char) {
            self.i += 3;
            return Ok(Expr::Unary(UnaryOp::Not, Box::new(self.parse_unary()?)));
        }
        if self.peek() == Some('-') && !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            return Ok(Expr::Unary(UnaryOp::Neg, Box::new(self.parse_unary()?)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of template in an expression"));
        };
        match c {
            '(' => {
                self.i += 1;
                let e = self.parse_expr()?;
                self.expect(')', "to close '('")?;
                Ok(e)
            }
            '\'' | '"' => self.parse_string(c),
            '$' => self
                .try_reference(false)?
                .map(Expr::Ref)
                .ok_or_else(|| self.error("expected a reference after '$'")),
            '[' => {
                self.i += 1;
                self.skip_ws();
                if self.peek() == Some(']') {
                    self.i += 1;
                    return Ok(Expr::List(Vec::new()));
                }
                let first = self.parse_expr()?;
                self.skip_ws();
                if self.starts_with("..") {
                    self.i += 2;
                    let last = self.parse_expr()?;
                    self.expect(']', "to close a range")?;
                    return Ok(Expr::Range(Box::new(first), Box::new(last)));
                }
                let mut items = vec![first];
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(',') => {
                            self.i += 1;
                            items.push(self.parse_expr()?);
                        }
                        Some(']') => {
                            self.i += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => return Err(self.error("expected ',' or ']' in a list")),
                    }
                }
            }
            '{' => {
                self.i += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some('}') {
                    self.i += 1;
                    return Ok(Expr::Map(entries));
                }
                loop {
                    let k = self.parse_expr()?;
                    self.expect(':', "in a map literal")?;
                    let v = self.parse_expr()?;
                    entries.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(',') => self.i += 1,
                        Some('}') => {
                            self.i += 1;
                            return Ok(Expr::Map(entries));
                        }
                        _ => return Err(self.error("expected ',' or '}' in a map literal")),
                    }
                }
            }
            c if c.is_ascii_digit() || c == '-' => self.parse_number(),
            c if c.is_ascii_alphabetic() => {
                let ns = self.i;
                while self.peek().is_some_and(is_ident_char) {
                    self.i += 1;
                }
                let word: String = self.s[ns..self.i].iter().collect();
                match word.as_str() {
                    "true" => Ok(Expr::Literal(Value::Bool(true))),
                    "false" => Ok(Expr::Literal(Value::Bool(false))),
                    "null" => Ok(Expr::Literal(Value::Null)),
                    _ => {
                        self.i = ns;
                        Err(self.error(format!("unexpected word '{word}' in an expression")))
                    }
                }
            }
            _ => Err(self.error(format!("unexpected '{c}' in an expression"))),
        }
    }

    fn parse_number(&mut self) -> Result<Expr> {
        let ns = self.i;
        if self.peek() == Some('-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let mut float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.i += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        let text: String = self.s[ns..self.i].iter().collect();
        let value = if float {
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        } else {
            text.parse::<i64>().ok().map(|n| Value::Number(n.into()))
        };
        value
            .map(Expr::Literal)
            .ok_or_else(|| self.error(format!("invalid number '{text}'")))
    }

    /// `'…'` is literal; `"…"` is interpolated. A doubled quote stands for itself.
    fn parse_string(&mut self, quote: char) -> Result<Expr> {
        self.i += 1;
        let mut raw = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string literal")),
                Some(c) if c == quote => {
                    if self.peek_at(1) == Some(quote) {
                        raw.push(quote);
                        self.i += 2;
                    } else {
                        self.i += 1;
                        break;
                    }
                }
                Some(c) => {
                    raw.push(c);
                    self.i += 1;
                }
            }
        }
        if quote == '\'' || !(raw.contains('$') || raw.contains('#')) {
            return Ok(Expr::Literal(Value::String(raw)));
        }
        let nodes = parse_template(&raw)?;
        Ok(Expr::Interpolated(nodes))
    }
}

/// Removes trailing spaces and tabs after the last line break.
fn trim_line_tail(text: &mut String) {
    let trimmed = text.trim_end_matches([' ', '\t']).len();
    text.truncate(trimmed);
}
