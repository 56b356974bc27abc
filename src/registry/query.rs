//! `pipeline runs --where EXPR`: comparisons over run fields joined by AND / OR / NOT and
//! parentheses, and `@tag`. A malformed expression is refused with the column where it went
//! wrong and what was expected there.
//!
//! ```text
//! expr       := and ("OR" and)*
//! and        := unary ("AND" unary)*
//! unary      := "NOT" unary | "(" expr ")" | "@" TAG | FIELD OP VALUE
//! OP         := = | != | < | <= | > | >= | ~      (~: glob, * and ?)
//! VALUE      := number | "quoted" | 'quoted' | bare-word
//! ```

use super::fields::{self, Row, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Or(Box<Query>, Box<Query>),
    And(Box<Query>, Box<Query>),
    Not(Box<Query>),
    Tag(String),
    Compare {
        field: String,
        column: usize,
        op: Op,
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Glob,
}

/// Where an expression went wrong: 1-based column, and what was expected there.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    At,
    Op(Op),
    Word { text: String, quoted: bool },
}

const OPERATORS: &[(&str, Op)] = &[
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("~", Op::Glob),
];

/// Tokens with their 1-based columns.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if let Some((s, op)) = OPERATORS.iter().find(|(s, _)| rest.starts_with(s)) {
            out.push((Tok::Op(*op), column));
            i += s.len();
            continue;
        }
        let tok = match c {
            '(' => Tok::Open,
            ')' => Tok::Close,
            '@' => Tok::At,
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or(QueryError {
                        column,
                        message: format!("this quote is never closed: add a closing {c}"),
                    })?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                out.push((Tok::Word { text, quoted: true }, column));
                continue;
            }
            '!' => {
                return Err(QueryError {
                    column,
                    message: "`!` alone is not an operator: write != or NOT".into(),
                })
            }
            _ => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| !c.is_whitespace() && !"()@\"'=!<>~".contains(**c))
                    .count();
                let text: String = chars[i..i + len].iter().collect();
                i += len;
                out.push((
                    Tok::Word {
                        text,
                        quoted: false,
                    },
                    column,
                ));
                continue;
            }
        };
        out.push((tok, column));
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, c)| *c)
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the expression".into(),
            Some(Tok::Open) => "`(`".into(),
            Some(Tok::Close) => "`)`".into(),
            Some(Tok::At) => "`@`".into(),
            Some(Tok::Op(op)) => {
                format!("`{}`", OPERATORS.iter().find(|(_, o)| o == op).unwrap().0)
            }
            Some(Tok::Word { text, .. }) => format!("`{text}`"),
        }
    }

    fn fail<T>(&self, expected: &str) -> Result<T, QueryError> {
        Err(QueryError {
            column: self.column(),
            message: format!("expected {expected}, found {}", self.found()),
        })
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Word { text, quoted: false }) if text.eq_ignore_ascii_case(word));
        self.pos += usize::from(hit);
        hit
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut q = self.and()?;
        while self.keyword("or") {
            q = Query::Or(Box::new(q), Box::new(self.and()?));
        }
        Ok(q)
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut q = self.unary()?;
        while self.keyword("and") {
            q = Query::And(Box::new(q), Box::new(self.unary()?));
        }
        Ok(q)
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        if self.keyword("not") {
            return Ok(Query::Not(Box::new(self.unary()?)));
        }
        let column = self.column();
        match self.toks.get(self.pos).map(|(t, _)| t.clone()) {
            Some(Tok::Open) => {
                self.pos += 1;
                let q = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return self.fail("`)` or AND / OR");
                }
                self.pos += 1;
                Ok(q)
            }
            Some(Tok::At) => {
                self.pos += 1;
                match self.peek().cloned() {
                    Some(Tok::Word { text, .. }) => {
                        self.pos += 1;
                        Ok(Query::Tag(text))
                    }
                    _ => self.fail("a tag name after `@`"),
                }
            }
            Some(Tok::Word {
                text: field,
                quoted: false,
            }) if !is_keyword(&field) => {
                self.pos += 1;
                let Some(Tok::Op(op)) = self.peek().cloned() else {
                    return self.fail(&format!("a comparison after `{field}` (= != < <= > >= ~)"));
                };
                self.pos += 1;
                let Some(Tok::Word { text: value, .. }) = self.peek().cloned() else {
                    return self.fail(&format!("a value to compare `{field}` with"));
                };
                self.pos += 1;
                Ok(Query::Compare {
                    field,
                    column,
                    op,
                    value,
                })
            }
            _ => self.fail("a field name, `@tag`, NOT or `(`"),
        }
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let toks = lex(text)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: text.chars().count() + 1,
        };
        let q = p.or()?;
        if p.pos < p.toks.len() {
            return p.fail("AND, OR or the end of the expression");
        }
        Ok(q)
    }

    /// The first field named that no run in `rows` has, with its column.
    pub fn unknown_field(&self, rows: &[Row]) -> Option<QueryError> {
        match self {
            Query::Or(a, b) | Query::And(a, b) => {
                a.unknown_field(rows).or_else(|| b.unknown_field(rows))
            }
            Query::Not(q) => q.unknown_field(rows),
            Query::Tag(_) => None,
            Query::Compare { field, column, .. } => {
                (!fields::known(rows, field)).then(|| QueryError {
                    column: *column,
                    message: format!("unknown field `{field}`; {}", fields::describe(rows)),
                })
            }
        }
    }

    pub fn matches(&self, row: &Row) -> bool {
        match self {
            Query::Or(a, b) => a.matches(row) || b.matches(row),
            Query::And(a, b) => a.matches(row) && b.matches(row),
            Query::Not(q) => !q.matches(row),
            Query::Tag(t) => row.tags.iter().any(|x| x == t),
            Query::Compare {
                field, op, value, ..
            } => fields::lookup(row, field).is_some_and(|v| compare(&v, *op, value)),
        }
    }
}

/// Numbers compare as numbers when both sides are numbers; otherwise text, exactly.
fn compare(have: &Value, op: Op, want: &str) -> bool {
    use std::cmp::Ordering::*;
    let number = |v: &Value| match v {
        Value::Num(n) => Some(*n),
        Value::Text(s) => s.parse::<f64>().ok(),
        Value::Missing => None,
    };
    let ordering = match (have, number(have), want.parse::<f64>().ok()) {
        (Value::Missing, _, _) => return false,
        (_, _, _) if op == Op::Glob => return glob(want, &have.show()),
        (_, Some(a), Some(b)) => a.partial_cmp(&b),
        (v, _, _) => Some(v.show().as_str().cmp(want)),
    };
    let Some(o) = ordering else { return false };
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Glob => unreachable!("handled above"),
    }
}

/// `*` matches any run of characters, `?` one character; the rest literally.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            (pi, ti) = (pi + 1, ti + 1);
        } else if pi < p.len() && p[pi] == '*' {
            (star, mark, pi) = (Some(pi), ti, pi + 1);
        } else if let Some(s) = star {
            (pi, mark) = (s + 1, mark + 1);
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
