//! Matching a request path against an API's resources.
//!
//! API Gateway picks the most specific resource: at each path segment a literal beats a
//! `{param}`, which beats a greedy `{proxy+}` (which must be the last segment and matches one
//! or more segments). The method is then the exact verb, else `ANY`.
//!
//! As in API Gateway (AWS-recorded: LocalStack's `test_lambda_aws_proxy_integration` snapshot),
//! path parameter values are the path as sent, not percent-decoded (`test%2Balias` stays so);
//! leading and trailing slashes are ignored, and a greedy parameter keeps the inner empty
//! segments (`/a//b` gives `proxy` = `a//b`).

use std::collections::BTreeMap;

/// One segment of a resource path template.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// A compiled resource path template.
#[derive(Debug, Clone, PartialEq)]
pub struct PathTemplate {
    segments: Vec<Segment>,
}

/// A successful match: the path parameters, as sent (not percent-decoded).
pub type PathParams = BTreeMap<String, String>;

impl PathTemplate {
    /// Compiles a template such as `/orders/{id}/{proxy+}`.
    pub fn new(template: &str) -> Self {
        let segments = split(template)
            .map(|s| {
                if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    match inner.strip_suffix('+') {
                        Some(name) => Segment::Greedy(name.to_owned()),
                        None => Segment::Param(inner.to_owned()),
                    }
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        Self { segments }
    }

    /// Matches a request path; on success returns the parameters and a specificity rank
    /// (lower is more specific) for choosing between several matches.
    pub fn matches(&self, path: &str) -> Option<(PathParams, Vec<u8>)> {
        let path = path.trim_end_matches('/');
        let parts: Vec<(usize, &str)> = segments(path).collect();
        let mut params = PathParams::new();
        let mut rank = Vec::with_capacity(self.segments.len());
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i).map(|(_, p)| percent_decode(p)) != Some(l.clone()) {
                        return None;
                    }
                    rank.push(0);
                }
                Segment::Param(name) => {
                    let (_, p) = parts.get(i)?;
                    params.insert(name.clone(), (*p).to_owned());
                    rank.push(1);
                }
                Segment::Greedy(name) => {
                    if i >= parts.len() || i != self.segments.len() - 1 {
                        return None;
                    }
                    // The rest of the path as sent, inner empty segments included.
                    params.insert(name.clone(), path[parts[i].0..].to_owned());
                    rank.push(2);
                    return Some((params, rank));
                }
            }
        }
        (parts.len() == self.segments.len()).then_some((params, rank))
    }
}

/// The non-empty segments of `path`, each with its byte offset.
fn segments(path: &str) -> impl Iterator<Item = (usize, &str)> {
    path.split('/')
        .scan(0, |offset, seg| {
            let start = *offset;
            *offset += seg.len() + 1;
            Some((start, seg))
        })
        .filter(|(_, s)| !s.is_empty())
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Picks the most specific template matching `path` among `(key, template)` pairs.
pub fn best_match<'a, K>(
    templates: impl IntoIterator<Item = (K, &'a PathTemplate)>,
    path: &str,
) -> Option<(K, PathParams)> {
    templates
        .into_iter()
        .filter_map(|(k, t)| t.matches(path).map(|(p, rank)| (k, p, rank)))
        .min_by(|a, b| a.2.cmp(&b.2))
        .map(|(k, p, _)| (k, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(templates: &[&str], path: &str) -> Option<(String, PathParams)> {
        let compiled: Vec<(String, PathTemplate)> = templates
            .iter()
            .map(|t| (t.to_string(), PathTemplate::new(t)))
            .collect();
        best_match(compiled.iter().map(|(k, t)| (k.clone(), t)), path)
    }

    #[test]
    fn literal_paths_and_root() {
        let t = ["/", "/record", "/records"];
        assert_eq!(pick(&t, "/record").unwrap().0, "/record");
        assert_eq!(pick(&t, "/records/").unwrap().0, "/records");
        assert_eq!(pick(&t, "/").unwrap().0, "/");
        assert_eq!(pick(&t, "").unwrap().0, "/");
        assert!(pick(&t, "/recordz").is_none());
        assert!(pick(&t, "/record/x").is_none());
    }

    #[test]
    fn parameters_are_captured_as_sent() {
        let (k, p) = pick(&["/orders/{id}"], "/orders/a%20b").unwrap();
        assert_eq!(k, "/orders/{id}");
        assert_eq!(p["id"], "a%20b");
    }

    #[test]
    fn slashes_as_api_gateway_treats_them() {
        let t = ["/{proxy+}", "/hardcoded"];
        let (_, p) = pick(&t, "/proxy-value/").unwrap();
        assert_eq!(p["proxy"], "proxy-value");
        let (_, p) = pick(&t, "/proxy-value//double-slash").unwrap();
        assert_eq!(p["proxy"], "proxy-value//double-slash");
        let (_, p) = pick(&t, "//proxy-value").unwrap();
        assert_eq!(p["proxy"], "proxy-value");
        assert_eq!(pick(&t, "//hardcoded").unwrap().0, "/hardcoded");
        let (_, p) = pick(&t, "/api/user/test%2Balias@gmail.com").unwrap();
        assert_eq!(p["proxy"], "api/user/test%2Balias@gmail.com");
    }

    #[test]
    fn literals_beat_parameters_beat_greedy() {
        let t = [
            "/orders/{id}",
            "/orders/latest",
            "/{proxy+}",
            "/orders/{id}/items",
        ];
        assert_eq!(pick(&t, "/orders/latest").unwrap().0, "/orders/latest");
        assert_eq!(pick(&t, "/orders/7").unwrap().0, "/orders/{id}");
        assert_eq!(pick(&t, "/orders/7/items").unwrap().0, "/orders/{id}/items");
        let (k, p) = pick(&t, "/a/b/c").unwrap();
        assert_eq!(k, "/{proxy+}");
        assert_eq!(p["proxy"], "a/b/c");
    }

    #[test]
    fn greedy_needs_at_least_one_segment() {
        assert!(pick(&["/files/{path+}"], "/files").is_none());
        assert_eq!(
            pick(&["/files/{path+}"], "/files/x/y").unwrap().1["path"],
            "x/y"
        );
    }
}
