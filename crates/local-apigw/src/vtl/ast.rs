//! The syntax tree of a template.

use serde_json::Value;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Literal text.
    Text(String),
    /// A reference rendered into the output.
    Ref(Reference),
    /// `#set($target = value)`.
    Set { target: Reference, value: Expr },
    /// `#if`/`#elseif`/`#else`/`#end`.
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    /// `#foreach($var in iterable) … #end`.
    Foreach {
        var: String,
        iterable: Expr,
        body: Vec<Node>,
    },
    /// `#break`.
    Break,
    /// `#stop`.
    Stop,
}

/// `$name.a.b('x')[0]`, `${name}`, `$!name`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reference {
    /// `$!` (renders nothing when null).
    pub(crate) quiet: bool,
    /// The variable name.
    pub(crate) root: String,
    /// Properties, method calls and indexes, in order.
    pub(crate) accessors: Vec<Accessor>,
    /// The source text, rendered as is for `$input` and `$util` themselves (a null value
    /// renders as nothing on API Gateway).
    pub(crate) source: String,
}

/// One step after the root of a reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Accessor {
    /// `.name`
    Property(String),
    /// `.name(args)`
    Method(String, Vec<Expr>),
    /// `[expr]`
    Index(Expr),
}

/// An expression (directive arguments, method arguments).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A literal value (numbers, booleans, single-quoted strings, null).
    Literal(Value),
    /// A double-quoted string, interpolated.
    Interpolated(Vec<Node>),
    /// A reference.
    Ref(Reference),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `[a..b]`
    Range(Box<Expr>, Box<Expr>),
    /// `{k: v}`
    Map(Vec<(Expr, Expr)>),
    /// `!x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UnaryOp {
    Not,
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}
