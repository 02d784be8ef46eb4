//! Ports of tccli's `--output text` and `--output table` renderers.
//!
//! The output is meant to be byte-for-byte what tccli prints when stdout is
//! not a terminal (no colours, an assumed width of 80 columns).  Scalars are
//! spelled the way Python's `str()` spells the value `json.loads` would have
//! produced, so `true` prints as `True`, `null` as `None` and floats use
//! Python's shortest `repr`.
//!
//! Both renderers walk the value with an explicit stack instead of recursion,
//! so arbitrarily deep input cannot overflow the call stack.
//!
//! Where tccli raises an exception (mixed lists of objects and non-objects,
//! rows of differing lengths in one table section, ...), these functions
//! still return something sensible instead of failing; see the notes on the
//! individual helpers.
//!
//! Both can make far more than they are given: a list of objects gives
//! every row a cell for every key any of its objects has (rows × keys), and
//! a table pads every line to its widest section (lines × width). So every
//! cell is counted against the answer's [`ResponseLimits`], and a table
//! whose padded text would pass [`MAX_TABLE_BYTES`] is refused before it is
//! written.
//!
//! tccli writes the service's strings (values, member names) raw; with
//! [`Strings::Inert`], for a terminal, each is escaped before it is laid out,
//! so that widths count what is shown and only the layout writes line feeds
//! and tabs.

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use tencentcloud_model::budget::{Budget, LimitExceeded, ResponseLimits};

/// The most text a table may print. Real tables are a few MB at most
/// (lines times the widest section); past this one is an answer whose
/// padding grows with the square of its size, not something to read.
pub const MAX_TABLE_BYTES: usize = 128 << 20;

/// Why an answer is not printed as text or a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// More cells than the limits allow.
    Limit(LimitExceeded),
    /// The padded table would be `bytes` long, more than [`MAX_TABLE_BYTES`].
    TableBytes { bytes: u128, width: usize },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Limit(limit) => write!(f, "{limit}"),
            Refused::TableBytes { bytes, width } => write!(
                f,
                "the table would be {bytes} bytes (every line padded to {width} columns), \
                 more than {MAX_TABLE_BYTES} (the limit `MAX_TABLE_BYTES`); --output json prints it"
            ),
        }
    }
}

/// How the service's strings (values, member names) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strings {
    /// As tccli writes them: raw.
    #[default]
    Raw,
    /// Control characters (line feed, carriage return and tab included) and
    /// the bidirectional overrides escaped: on a terminal, a line feed in a
    /// value would forge a line of output, an escape sequence drive the
    /// terminal, an override reorder what it shows.
    Inert,
}

impl Strings {
    fn show<'s>(self, text: &'s str) -> Cow<'s, str> {
        match self {
            Strings::Raw => Cow::Borrowed(text),
            Strings::Inert => inert(text),
        }
    }

    /// Python's `str()` of `value`, as shown.
    fn show_value(self, value: &Value) -> String {
        let text = py_str(value);
        match self.show(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(escaped) => escaped,
        }
    }
}

/// `text` with every control character and bidirectional override written
/// as its Rust escape (`\n`, `\u{1b}`); unchanged (and not copied) when it
/// has none.
fn inert(text: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// tccli's `--output text`.
pub fn text(value: &Value, limits: ResponseLimits, strings: Strings) -> Result<String, Refused> {
    let mut writer = TextWriter::new(limits);
    writer.strings = strings;
    writer.run(value)
}

/// tccli's `--output table`, titled as tccli titles it ("action" at the top).
pub fn table(value: &Value, limits: ResponseLimits, strings: Strings) -> Result<String, Refused> {
    let mut builder = TableBuilder::new(limits);
    builder.strings = strings;
    builder.run("action", value);
    if let Some(limit) = builder.refused {
        return Err(Refused::Limit(limit));
    }
    render(&mut builder.sections)
}

// ---------------------------------------------------------------------------
// Python spellings of JSON values
// ---------------------------------------------------------------------------

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Appends Python's `str()` of the decoded value.
fn push_py_str(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => push_py_number(out, n),
        Value::String(s) => out.push_str(s),
        Value::Array(_) | Value::Object(_) => push_py_repr(out, value),
    }
}

fn py_str(value: &Value) -> String {
    let mut s = String::new();
    push_py_str(&mut s, value);
    s
}

pub(crate) fn push_py_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
    } else if let Some(u) = n.as_u64() {
        out.push_str(&u.to_string());
    } else if let Some(f) = n.as_f64() {
        push_py_float(out, f);
    } else {
        // Only reachable with serde_json's arbitrary_precision feature.
        out.push_str(&n.to_string());
    }
}

/// Python's `repr(float)`: shortest round-trip digits, written in fixed
/// notation when the decimal exponent is in -4..16 and in scientific
/// notation (two-digit signed exponent) otherwise.
fn push_py_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("nan");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f < 0.0 { "-inf" } else { "inf" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    let (digits, exp) = shortest_digits(f.abs());
    // Position of the decimal point relative to the first digit.
    let point = exp + 1;
    if !(-3..=16).contains(&point) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if point <= 0 {
        out.push_str("0.");
        push_repeated(out, '0', -point);
        out.push_str(&digits);
    } else {
        let point = point as usize;
        if point >= digits.len() {
            out.push_str(&digits);
            push_repeated(out, '0', (point - digits.len()) as i64);
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// The shortest round-trip significant digits of a positive finite `f`, and
/// the decimal exponent of the first one.  Rust and Python agree except when
/// two candidates are exactly equally close to `f`: Python then takes the one
/// ending in an even digit, while Rust may not.
fn shortest_digits(f: f64) -> (String, i64) {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let odd_last = digits.bytes().next_back().is_some_and(|d| (d - b'0') % 2 == 1);
    if !odd_last {
        return (digits, exp);
    }
    // A tie means f's exact decimal expansion is the n-digit truncation `low`
    // followed by a single 5.  Cheap check first: n+1 rounded digits end in 5.
    if !format!("{f:.n$e}")
        .split('e')
        .next()
        .is_some_and(|m| m.ends_with('5'))
    {
        return (digits, exp);
    }
    // Every f64 has at most 767 significant decimal digits.
    let exact = format!("{f:.800e}");
    let (exact_mantissa, exact_exp) = exact.split_once('e').unwrap_or((exact.as_str(), "0"));
    if exact_exp.parse::<i64>().ok() != Some(exp) {
        return (digits, exp);
    }
    let exact_digits: Vec<u8> = exact_mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let is_tie = exact_digits.get(n) == Some(&b'5')
        && exact_digits
            .get(n + 1..)
            .unwrap_or_default()
            .iter()
            .all(|&d| d == b'0');
    if !is_tie {
        return (digits, exp);
    }
    let low = &exact_digits[..n];
    let other: Vec<u8> = if digits.as_bytes() == low {
        // Round the truncation up; an all-nines carry cannot be the answer.
        let mut up = low.to_vec();
        let Some(pos) = up.iter().rposition(|&d| d != b'9') else {
            return (digits, exp);
        };
        up[pos] += 1;
        up[pos + 1..].iter_mut().for_each(|d| *d = b'0');
        up
    } else {
        low.to_vec()
    };
    let other = String::from_utf8(other).unwrap_or_default();
    let (first, rest) = other.split_at(1.min(other.len()));
    let round_trips = format!("{first}.{rest}0e{exp}").parse::<f64>().ok() == Some(f);
    if round_trips {
        let trimmed = other.trim_end_matches('0');
        let keep = if trimmed.is_empty() { "0" } else { trimmed };
        (keep.to_owned(), exp)
    } else {
        (digits, exp)
    }
}

/// Python's `repr()` of a decoded list or dict (what `str()` gives for
/// containers).  Iterative so nesting depth cannot overflow the stack.
fn push_py_repr(out: &mut String, value: &Value) {
    enum Piece<'a> {
        Value(&'a Value),
        Key(&'a str),
        Lit(&'static str),
    }
    let mut stack = vec![Piece::Value(value)];
    while let Some(piece) = stack.pop() {
        match piece {
            Piece::Lit(s) => out.push_str(s),
            Piece::Key(k) => push_py_str_repr(out, k),
            Piece::Value(Value::String(s)) => push_py_str_repr(out, s),
            Piece::Value(Value::Array(items)) => {
                out.push('[');
                stack.push(Piece::Lit("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push(Piece::Value(item));
                    if i > 0 {
                        stack.push(Piece::Lit(", "));
                    }
                }
            }
            Piece::Value(Value::Object(map)) => {
                out.push('{');
                stack.push(Piece::Lit("}"));
                for (i, (k, v)) in map.iter().enumerate().rev() {
                    stack.push(Piece::Value(v));
                    stack.push(Piece::Lit(": "));
                    stack.push(Piece::Key(k));
                    if i > 0 {
                        stack.push(Piece::Lit(", "));
                    }
                }
            }
            Piece::Value(scalar) => push_py_str(out, scalar),
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`,
/// with non-printable characters escaped.
fn push_py_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        let code = c as u32;
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if code < 0x20 || code == 0x7f => out.push_str(&format!("\\x{code:02x}")),
            _ if c.is_ascii() || py_printable(code) => out.push(c),
            _ if code <= 0xff => out.push_str(&format!("\\x{code:02x}")),
            _ if code <= 0xffff => out.push_str(&format!("\\u{code:04x}")),
            _ => out.push_str(&format!("\\U{code:08x}")),
        }
    }
    out.push(quote);
}

/// Assigned non-ASCII code points that Python 3.11 (Unicode 14) considers
/// non-printable: categories Cc, Cf, Co, Zl, Zp and Zs other than space.
const NON_PRINTABLE: &[(u32, u32)] = &[
    (0x80, 0xa0),
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x1680, 0x1680),
    (0x180e, 0x180e),
    (0x2000, 0x200f),
    (0x2028, 0x202f),
    (0x205f, 0x2064),
    (0x2066, 0x206f),
    (0x3000, 0x3000),
    (0xd800, 0xf8ff),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x13438),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
    (0xf0000, 0xffffd),
    (0x100000, 0x10fffd),
];

/// Approximates `str.isprintable()` for one non-ASCII character.  Unassigned
/// code points (category Cn) are treated as printable except for the
/// permanent noncharacters, to avoid carrying the whole Unicode database.
fn py_printable(code: u32) -> bool {
    let noncharacter = (0xfdd0..=0xfdef).contains(&code) || code & 0xfffe == 0xfffe;
    if noncharacter {
        return false;
    }
    let idx = NON_PRINTABLE.partition_point(|&(_, end)| end < code);
    NON_PRINTABLE.get(idx).is_none_or(|&(start, _)| start > code)
}

fn push_repeated(out: &mut String, c: char, count: i64) {
    // Python's `c * n` is empty for n <= 0.
    for _ in 0..count.max(0) {
        out.push(c);
    }
}

fn char_len(s: &str) -> usize {
    // table.py measures with len(): code points, not display columns.
    s.chars().count()
}

// ---------------------------------------------------------------------------
// --output text
// ---------------------------------------------------------------------------

/// One pending piece of work: format `value`, labelled by `ident` (the key it
/// came from), with the column set shared by a list of objects if any.
struct TextItem<'a> {
    value: &'a Value,
    ident: Option<&'a str>,
    columns: Option<usize>,
}

struct TextWriter<'a> {
    out: String,
    stack: Vec<TextItem<'a>>,
    /// Sorted scalar-key sets of lists of objects, indexed by `columns`.
    column_sets: Vec<Vec<&'a str>>,
    /// Cells written so far.
    budget: Budget,
    refused: Option<LimitExceeded>,
    strings: Strings,
}

impl<'a> TextWriter<'a> {
    fn new(limits: ResponseLimits) -> Self {
        TextWriter {
            out: String::new(),
            stack: Vec::new(),
            column_sets: Vec::new(),
            budget: Budget::new(limits),
            refused: None,
            strings: Strings::Raw,
        }
    }

    /// Counts `cells` about to be written; once over the limits, the walk
    /// stops.
    fn charge(&mut self, cells: usize) -> bool {
        match self.budget.charge(cells) {
            Ok(()) => true,
            Err(limit) => {
                self.refused = Some(limit);
                self.stack.clear();
                false
            }
        }
    }

    fn run(mut self, value: &'a Value) -> Result<String, Refused> {
        self.stack.push(TextItem {
            value,
            ident: None,
            columns: None,
        });
        while let Some(item) = self.stack.pop() {
            if self.refused.is_some() {
                break;
            }
            match item.value {
                Value::Object(map) => self.object(map, item.ident, item.columns),
                Value::Array(items) => self.list(items, item.ident),
                scalar => {
                    self.out.push_str(&self.strings.show_value(scalar));
                    self.out.push('\n');
                }
            }
        }
        match self.refused {
            Some(limit) => Err(Refused::Limit(limit)),
            None => Ok(self.out),
        }
    }

    /// Children are pushed in reverse so they pop in their natural order.
    fn push_children(&mut self, children: Vec<(&'a str, &'a Value)>) {
        for (key, value) in children.into_iter().rev() {
            self.stack.push(TextItem {
                value,
                ident: Some(key),
                columns: None,
            });
        }
    }

    fn object(&mut self, map: &'a Map<String, Value>, ident: Option<&'a str>, columns: Option<usize>) {
        let mut line: Vec<String> = Vec::new();
        let mut nested: Vec<(&'a str, &'a Value)> = Vec::new();
        match columns {
            None => {
                for (key, value) in map {
                    if is_scalar(value) {
                        line.push(self.strings.show_value(value));
                    } else {
                        nested.push((key, value));
                    }
                }
            }
            Some(idx) => {
                // Inside a list of objects every row has the list's full
                // column set, blank where this object lacks the key.
                if !self.charge(self.column_sets[idx].len()) {
                    return;
                }
                let keys = &self.column_sets[idx];
                let strings = self.strings;
                line.extend(
                    keys.iter()
                        .map(|k| map.get(*k).map(|v| strings.show_value(v)).unwrap_or_default()),
                );
                nested.extend(
                    map.iter()
                        .filter(|(k, _)| keys.binary_search(&k.as_str()).is_err())
                        .map(|(k, v)| (k.as_str(), v)),
                );
            }
        }
        if !line.is_empty() {
            if let Some(ident) = ident {
                self.out.push_str(&self.strings.show(&ident.to_uppercase()));
                self.out.push('\t');
            }
            self.out.push_str(&line.join("\t"));
            self.out.push('\n');
        }
        self.push_children(nested);
    }

    fn list(&mut self, items: &'a [Value], ident: Option<&'a str>) {
        if items.iter().any(Value::is_object) {
            // tccli raises if such a list also holds non-objects; here those
            // elements are formatted as they would be on their own.
            let keys: BTreeSet<&'a str> = items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter().filter(|(_, v)| is_scalar(v)).map(|(k, _)| k.as_str()))
                .collect();
            self.column_sets.push(keys.into_iter().collect());
            let columns = Some(self.column_sets.len() - 1);
            for value in items.iter().rev() {
                self.stack.push(TextItem {
                    value,
                    ident,
                    columns,
                });
            }
        } else if items.iter().any(Value::is_array) {
            let scalars: Vec<&Value> = items.iter().filter(|v| is_scalar(v)).collect();
            if !scalars.is_empty() {
                self.scalar_list(&scalars, ident);
            }
            for value in items.iter().rev().filter(|v| !is_scalar(v)) {
                self.stack.push(TextItem {
                    value,
                    ident,
                    columns: None,
                });
            }
        } else if !items.is_empty() {
            let scalars: Vec<&Value> = items.iter().collect();
            self.scalar_list(&scalars, ident);
        }
    }

    /// Labelled scalars go one per line; a bare list goes on one line.
    fn scalar_list(&mut self, items: &[&Value], ident: Option<&str>) {
        if !self.charge(items.len()) {
            return;
        }
        match ident {
            Some(ident) => {
                let label = ident.to_uppercase();
                let label = self.strings.show(&label);
                for item in items {
                    self.out.push_str(&label);
                    self.out.push('\t');
                    self.out.push_str(&self.strings.show_value(item));
                    self.out.push('\n');
                }
            }
            None => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push('\t');
                    }
                    self.out.push_str(&self.strings.show_value(item));
                }
                self.out.push('\n');
            }
        }
    }
}

// ---------------------------------------------------------------------------
// --output table: building sections
// ---------------------------------------------------------------------------

/// tccli's width of an unknown (non-terminal) stdout; wider tables flip
/// their single-row sections into key/value rows.
const TERMINAL_WIDTH: usize = 80;

#[derive(Default)]
struct Section {
    title: String,
    title_len: usize,
    indent: usize,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Longest cell (in code points) of each column, headers included.
    widths: Vec<usize>,
}

impl Section {
    fn new(title: &str, indent: usize) -> Self {
        Section {
            title: title.to_owned(),
            title_len: char_len(title),
            indent,
            ..Section::default()
        }
    }

    fn note_widths(&mut self, cells: &[String]) {
        for (i, cell) in cells.iter().enumerate() {
            let len = char_len(cell);
            match self.widths.get_mut(i) {
                Some(w) => *w = (*w).max(len),
                None => self.widths.push(len),
            }
        }
    }

    fn set_headers(&mut self, headers: Vec<String>) {
        self.note_widths(&headers);
        self.headers = headers;
    }

    /// tccli rejects rows whose length differs from the section's first;
    /// here they are accepted and short rows are padded when rendered.
    fn add_row(&mut self, row: Vec<String>) {
        self.note_widths(&row);
        self.rows.push(row);
    }

    fn total_width(&self) -> usize {
        let border = 2 + 2 * self.indent;
        let columns: usize = self.widths.iter().map(|w| w + 4).sum();
        (columns + border).max(self.title_len + border)
    }

    /// Turns a one-row section with headers into `header | value` rows.
    fn make_vertical(&mut self) {
        if self.rows.len() != 1 || self.headers.is_empty() {
            return;
        }
        let headers = std::mem::take(&mut self.headers);
        let values = self.rows.pop().unwrap_or_default();
        self.widths.clear();
        for (header, value) in headers.into_iter().zip(values) {
            self.add_row(vec![header, value]);
        }
    }

    /// Column widths (cell padding included) scaled to fill `max_width`,
    /// rounding like Python's `round()` and fixing the remainder from the
    /// left (too wide) or the right (too narrow).
    fn column_widths(&self, max_width: i64) -> Vec<i64> {
        let unscaled: Vec<i64> = self.widths.iter().map(|&w| w as i64 + 4).collect();
        let total: i64 = unscaled.iter().sum();
        if unscaled.is_empty() || total == 0 {
            return unscaled;
        }
        let scale = max_width as f64 / total as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|&w| (scale * w as f64).round_ties_even() as i64)
            .collect();
        let mut off_by: i64 = scaled.iter().sum::<i64>() - max_width;
        while off_by > 0 {
            for w in scaled.iter_mut() {
                if off_by == 0 {
                    break;
                }
                *w -= 1;
                off_by -= 1;
            }
        }
        while off_by < 0 {
            for w in scaled.iter_mut().rev() {
                if off_by == 0 {
                    break;
                }
                *w += 1;
                off_by += 1;
            }
        }
        scaled
    }
}

enum TableTask<'a> {
    /// `_build_table`: a value, opening a section when it has a title.
    Build {
        title: Option<&'a str>,
        value: &'a Value,
        indent: usize,
    },
    /// Element `idx` of a list whose first element is an object.
    ObjectRow {
        items: &'a [Value],
        idx: usize,
        columns: usize,
        title: Option<&'a str>,
        indent: usize,
    },
    /// Element `idx` of any other non-empty list.
    PlainRow { items: &'a [Value], idx: usize },
}

/// Header keys and nested keys shared by the rows of a list of objects.
struct Columns<'a> {
    headers: Vec<&'a str>,
    nested: Vec<&'a str>,
}

struct TableBuilder<'a> {
    sections: Vec<Section>,
    stack: Vec<TableTask<'a>>,
    column_sets: Vec<Columns<'a>>,
    /// Header and row cells made so far.
    budget: Budget,
    refused: Option<LimitExceeded>,
    strings: Strings,
}

impl<'a> TableBuilder<'a> {
    fn new(limits: ResponseLimits) -> Self {
        TableBuilder {
            sections: Vec::new(),
            stack: Vec::new(),
            column_sets: Vec::new(),
            budget: Budget::new(limits),
            refused: None,
            strings: Strings::Raw,
        }
    }

    /// Counts `cells` about to be made; once over the limits, the walk
    /// stops.
    fn charge(&mut self, cells: usize) -> bool {
        match self.budget.charge(cells) {
            Ok(()) => true,
            Err(limit) => {
                self.refused = Some(limit);
                self.stack.clear();
                false
            }
        }
    }

    fn add_row(&mut self, row: Vec<String>) {
        if self.charge(row.len()) {
            self.current().add_row(row);
        }
    }

    fn set_headers(&mut self, headers: Vec<String>) {
        if self.charge(headers.len()) {
            self.current().set_headers(headers);
        }
    }

    fn run(&mut self, title: &'a str, value: &'a Value) {
        self.stack.push(TableTask::Build {
            title: Some(title),
            value,
            indent: 0,
        });
        while let Some(task) = self.stack.pop() {
            if self.refused.is_some() {
                break;
            }
            match task {
                TableTask::Build { title, value, indent } => self.build(title, value, indent),
                TableTask::ObjectRow {
                    items,
                    idx,
                    columns,
                    title,
                    indent,
                } => self.object_row(items, idx, columns, title, indent),
                TableTask::PlainRow { items, idx } => self.plain_row(items, idx),
            }
        }
    }

    /// Rows always go to the most recently opened section, as in tccli.
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        let last = self.sections.len() - 1;
        &mut self.sections[last]
    }

    fn new_section(&mut self, title: &str, indent: usize) {
        let title = self.strings.show(title);
        self.sections.push(Section::new(&title, indent));
    }

    fn show_all<'k>(&self, names: impl Iterator<Item = &'k str>) -> Vec<String> {
        names.map(|name| self.strings.show(name).into_owned()).collect()
    }

    fn build(&mut self, title: Option<&'a str>, value: &'a Value, indent: usize) {
        if value.is_null() {
            return;
        }
        if let Some(title) = title {
            self.new_section(title, indent);
        }
        match value {
            Value::Array(items) if !items.is_empty() => {
                if items.first().is_some_and(Value::is_object) {
                    let columns = Columns::of_list(items);
                    let headers = self.show_all(columns.headers.iter().copied());
                    self.set_headers(headers);
                    self.column_sets.push(columns);
                    self.stack.push(TableTask::ObjectRow {
                        items,
                        idx: 0,
                        columns: self.column_sets.len() - 1,
                        title,
                        indent,
                    });
                } else {
                    self.stack.push(TableTask::PlainRow { items, idx: 0 });
                }
            }
            Value::Object(map) => {
                let (scalars, nested): (Vec<_>, Vec<_>) = map.iter().partition(|(_, v)| is_scalar(v));
                match scalars.as_slice() {
                    [] => {}
                    // A lone scalar becomes a `key | value` row, no header.
                    [(key, value)] => {
                        let row = vec![
                            self.strings.show(key).into_owned(),
                            self.strings.show_value(value),
                        ];
                        self.add_row(row);
                    }
                    pairs => {
                        let headers = self.show_all(pairs.iter().map(|(k, _)| k.as_str()));
                        let row = pairs.iter().map(|(_, v)| self.strings.show_value(v)).collect();
                        self.set_headers(headers);
                        self.add_row(row);
                    }
                }
                for (key, value) in nested.into_iter().rev() {
                    self.stack.push(TableTask::Build {
                        title: Some(key),
                        value,
                        indent: indent + 1,
                    });
                }
            }
            // Scalars, and empty lists (which print as `[]`).
            other => {
                let row = vec![self.strings.show_value(other)];
                self.add_row(row);
            }
        }
    }

    /// One element of a list of objects: a row, then its nested values as
    /// indented sections.  When there are nested values, every element after
    /// the first reopens a section with the list's title and headers.
    fn object_row(
        &mut self,
        items: &'a [Value],
        idx: usize,
        columns: usize,
        title: Option<&'a str>,
        indent: usize,
    ) {
        let Some(element) = items.get(idx) else {
            return;
        };
        if idx + 1 < items.len() {
            self.stack.push(TableTask::ObjectRow {
                items,
                idx: idx + 1,
                columns,
                title,
                indent,
            });
        }
        // The row's cells, and the headers again when it reopens a section,
        // are counted before they are made.
        let cols = &self.column_sets[columns];
        let reopen = idx > 0 && !cols.nested.is_empty();
        let cells = cols.headers.len() * if reopen { 2 } else { 1 };
        if !self.charge(cells) {
            return;
        }
        let strings = self.strings;
        let cols = &self.column_sets[columns];
        let headers: Vec<String> = if reopen {
            cols.headers
                .iter()
                .map(|h| strings.show(h).into_owned())
                .collect()
        } else {
            Vec::new()
        };
        let (row, nested): (Vec<String>, Vec<(&'a str, &'a Value)>) = match element.as_object() {
            Some(map) => (
                cols.headers
                    .iter()
                    .map(|h| map.get(*h).map(|v| strings.show_value(v)).unwrap_or_default())
                    .collect(),
                // Both sorted, so this keeps tccli's order; walking the
                // element (not the list's key union) keeps this linear.
                map.iter()
                    .filter(|(k, _)| cols.nested.binary_search(&k.as_str()).is_ok())
                    .map(|(k, v)| (k.as_str(), v))
                    .collect(),
            ),
            // tccli gives a non-object element a row of its headers' cells,
            // which is fine only when there are none, and raises for any
            // element but `[]` or `""`.  Rows stay blank; where tccli would
            // raise, the value is shown in a nested section titled like the
            // list so it is not lost.
            None => {
                let tccli_copes = cols.headers.is_empty()
                    && match element {
                        Value::Array(inner) => inner.is_empty(),
                        Value::String(s) => s.is_empty() && !cols.nested.contains(&""),
                        _ => false,
                    };
                let nested = if tccli_copes {
                    Vec::new()
                } else {
                    vec![(title.unwrap_or(""), element)]
                };
                (vec![String::new(); cols.headers.len()], nested)
            }
        };
        if reopen {
            // tccli crashes on an untitled reopened section; use no title.
            self.new_section(title.unwrap_or(""), indent);
            self.current().set_headers(headers);
        }
        self.current().add_row(row);
        for (key, value) in nested.into_iter().rev() {
            self.stack.push(TableTask::Build {
                title: Some(key),
                value,
                indent: indent + 1,
            });
        }
    }

    /// One element of a list that does not start with an object.  Nested
    /// lists that are not flat are built untitled at indent 0, as tccli does.
    fn plain_row(&mut self, items: &'a [Value], idx: usize) {
        let Some(item) = items.get(idx) else {
            return;
        };
        if idx + 1 < items.len() {
            self.stack.push(TableTask::PlainRow { items, idx: idx + 1 });
        }
        match item {
            Value::Array(inner) if !inner.iter().all(is_scalar) => {
                self.stack.push(TableTask::Build {
                    title: None,
                    value: item,
                    indent: 0,
                });
            }
            Value::Array(inner) => {
                let row = inner.iter().map(|v| self.strings.show_value(v)).collect();
                self.add_row(row);
            }
            // tccli iterates a dict here, so the row is its keys.
            Value::Object(map) => {
                let row = self.show_all(map.keys().map(String::as_str));
                self.add_row(row);
            }
            scalar => {
                let row = vec![self.strings.show_value(scalar)];
                self.add_row(row);
            }
        }
    }
}

impl<'a> Columns<'a> {
    /// Union over the objects of the list; a key may be in both sets when
    /// it is scalar in one element and nested in another.
    fn of_list(items: &'a [Value]) -> Self {
        let mut headers = BTreeSet::new();
        let mut nested = BTreeSet::new();
        for map in items.iter().filter_map(Value::as_object) {
            for (key, value) in map {
                if is_scalar(value) {
                    headers.insert(key.as_str());
                } else {
                    nested.insert(key.as_str());
                }
            }
        }
        Columns {
            headers: headers.into_iter().collect(),
            nested: nested.into_iter().collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// --output table: rendering
// ---------------------------------------------------------------------------

fn render(sections: &mut [Section]) -> Result<String, Refused> {
    let widest = |sections: &[Section]| sections.iter().map(Section::total_width).max();
    let Some(mut max_width) = widest(sections) else {
        return Ok(String::new());
    };
    if max_width > TERMINAL_WIDTH {
        sections.iter_mut().for_each(Section::make_vertical);
        max_width = widest(sections).unwrap_or(max_width);
    }
    let bytes = rendered_bytes(sections, max_width);
    if bytes > MAX_TABLE_BYTES as u128 {
        return Err(Refused::TableBytes {
            bytes,
            width: max_width,
        });
    }
    let mut out = String::new();
    push_repeated(&mut out, '-', max_width as i64);
    out.push('\n');
    for section in sections.iter() {
        render_section(&mut out, section, max_width as i64 - 2 * section.indent as i64);
    }
    Ok(out)
}

/// About how long [`render`]'s text is: each of [`render_section`]'s lines
/// padded to `max_width`, and each cell's bytes beyond its characters.
fn rendered_bytes(sections: &[Section], max_width: usize) -> u128 {
    let mut lines: u128 = 1;
    let mut cell_bytes: u128 = 0;
    for section in sections {
        if !section.title.is_empty() {
            lines += 1;
            if section.headers.is_empty() && section.rows.is_empty() {
                lines += 1;
            }
        }
        if !section.headers.is_empty() {
            lines += 2;
        }
        if !section.rows.is_empty() && !section.widths.is_empty() {
            lines += section.rows.len() as u128 + 2;
        }
        for cell in section.headers.iter().chain(section.rows.iter().flatten()) {
            cell_bytes += cell.len() as u128;
        }
    }
    lines * (max_width as u128 + 1) + cell_bytes
}

/// Writes one line framed by the section's indentation bars.
fn emit(out: &mut String, indent: usize, line: &str) {
    push_repeated(out, '|', indent as i64);
    out.push_str(line);
    push_repeated(out, '|', indent as i64);
    out.push('\n');
}

fn render_section(out: &mut String, section: &Section, width: i64) {
    let indent = section.indent;
    let mut line = String::new();
    if !section.title.is_empty() {
        center_into(&mut line, &section.title, section.title_len, width, "|");
        emit(out, indent, &line);
        if section.headers.is_empty() && section.rows.is_empty() {
            line.clear();
            line.push('+');
            push_repeated(&mut line, '-', width - 2);
            line.push('+');
            emit(out, indent, &line);
        }
    }
    if !section.headers.is_empty() {
        let widths = section.column_widths(width);
        emit(out, indent, &border_line(&widths));
        line.clear();
        for (i, &w) in widths.iter().enumerate() {
            let header = section.headers.get(i).map_or("", String::as_str);
            center_into(
                &mut line,
                header,
                char_len(header),
                w,
                if i == 0 { "|" } else { "" },
            );
        }
        emit(out, indent, &line);
    }
    if section.rows.is_empty() {
        return;
    }
    let widths = section.column_widths(width);
    if widths.is_empty() {
        return;
    }
    let border = border_line(&widths);
    emit(out, indent, &border);
    for row in &section.rows {
        line.clear();
        for (i, &w) in widths.iter().enumerate() {
            let cell = row.get(i).map_or("", String::as_str);
            align_left_into(&mut line, cell, w, if i == 0 { "|" } else { "" });
        }
        emit(out, indent, &line);
    }
    emit(out, indent, &border);
}

/// `+----+-----+` for the given column widths.
fn border_line(widths: &[i64]) -> String {
    let mut line = String::new();
    for (i, &w) in widths.iter().enumerate() {
        if i == 0 {
            line.push('+');
            push_repeated(&mut line, '-', w - 2);
        } else {
            push_repeated(&mut line, '-', w - 1);
        }
        line.push('+');
    }
    line
}

/// A cell of `width` with the text centred (biased left) and a `|` right
/// edge.  Offsets use Python's floor division; negative runs print nothing.
fn center_into(line: &mut String, text: &str, text_len: usize, width: i64, left: &str) {
    let text_len = text_len as i64;
    let left_len = left.len() as i64;
    let start = width.div_euclid(2) - text_len.div_euclid(2) - 1;
    line.push_str(left);
    push_repeated(line, ' ', start);
    line.push_str(text);
    push_repeated(line, ' ', width - 1 - (left_len + start + text_len));
    line.push('|');
}

/// A cell of `width` with the text after two spaces (none if it would not
/// fit) and a `|` right edge.
fn align_left_into(line: &mut String, text: &str, width: i64, left: &str) {
    let text_len = char_len(text) as i64;
    let left_len = left.len() as i64;
    let padding = if width - (text_len + 2 + left_len + 1) >= 0 {
        2
    } else {
        0
    };
    line.push_str(left);
    push_repeated(line, ' ', padding);
    line.push_str(text);
    push_repeated(line, ' ', width - (left_len + padding + text_len) - 1);
    line.push('|');
}

#[cfg(test)]
// Keep the generated cases exactly as scripts/python/tccli_format_expected.py writes them.
#[rustfmt::skip::macros(case)]
mod tests {
    use super::*;
    use serde_json::json;

    /// [`super::text`] within the default limits, which these cases stay far below.
    fn text(value: &Value) -> String {
        inert_or_raw_text(value, Strings::Raw)
    }

    /// [`super::table`] within the default limits.
    fn table(value: &Value) -> String {
        inert_or_raw_table(value, Strings::Raw)
    }

    fn inert_or_raw_text(value: &Value, strings: Strings) -> String {
        super::text(value, ResponseLimits::new(), strings).expect("within the limits")
    }

    fn inert_or_raw_table(value: &Value, strings: Strings) -> String {
        super::table(value, ResponseLimits::new(), strings).expect("within the limits")
    }

    /// `expected_*` is tccli's output, or `None` where tccli itself raises
    /// (then the case only checks that nothing panics).
    macro_rules! case {
        ($name:ident, $input:expr, $expected_text:expr, $expected_table:expr) => {
            #[test]
            fn $name() {
                let value: Value = serde_json::from_str($input).expect("valid JSON");
                let expected_text: Option<&str> = $expected_text;
                let expected_table: Option<&str> = $expected_table;
                let got_text = text(&value);
                let got_table = table(&value);
                if let Some(expected) = expected_text {
                    assert_eq!(got_text, expected, "text output");
                }
                if let Some(expected) = expected_table {
                    assert_eq!(got_table, expected, "table output");
                }
            }
        };
    }

    // BEGIN GENERATED by scripts/python/tccli_format_expected.py
    case!(
        describe_instances,
        r#"{
  "InstanceSet": [
    {"CPU": 2, "InstanceId": "ins-abc123", "InstanceName": "web-1",
     "Memory": 4, "Placement": {"ProjectId": 0, "Zone": "ap-guangzhou-3"},
     "PrivateIpAddresses": ["10.0.0.1", "10.0.0.2"], "RenewFlag": null,
     "Tags": []},
    {"CPU": 4, "InstanceId": "ins-def456", "InstanceName": "db-1",
     "Memory": 8, "Placement": {"ProjectId": 1, "Zone": "ap-guangzhou-4"},
     "PrivateIpAddresses": ["10.0.1.5"],
     "Tags": [{"Key": "env", "Value": "prod"}]}
  ],
  "RequestId": "6ef60bec-0242-43af-bb20-270359fb54a7",
  "TotalCount": 2
}"#,
        Some(concat!(
            "6ef60bec-0242-43af-bb20-270359fb54a7\t2\n",
            "INSTANCESET\t2\tins-abc123\tweb-1\t4\tNone\n",
            "PLACEMENT\t0\tap-guangzhou-3\n",
            "PRIVATEIPADDRESSES\t10.0.0.1\n",
            "PRIVATEIPADDRESSES\t10.0.0.2\n",
            "INSTANCESET\t4\tins-def456\tdb-1\t8\t\n",
            "PLACEMENT\t1\tap-guangzhou-4\n",
            "PRIVATEIPADDRESSES\t10.0.1.5\n",
            "TAGS\tenv\tprod\n",
        )),
        Some(concat!(
            "----------------------------------------------------------------\n",
            "|                            action                            |\n",
            "+---------------------------------------------+----------------+\n",
            "|                  RequestId                  |  TotalCount    |\n",
            "+---------------------------------------------+----------------+\n",
            "|  6ef60bec-0242-43af-bb20-270359fb54a7       |  2             |\n",
            "+---------------------------------------------+----------------+\n",
            "||                         InstanceSet                        ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "|| CPU | InstanceId  | InstanceName   | Memory  |  RenewFlag  ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "||  2  |  ins-abc123 |  web-1         |  4      |  None       ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "|||                         Placement                        |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||       ProjectId       |              Zone                |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||  0                    |  ap-guangzhou-3                  |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||                    PrivateIpAddresses                    |||\n",
            "||+----------------------------------------------------------+||\n",
            "|||  10.0.0.1                                                |||\n",
            "|||  10.0.0.2                                                |||\n",
            "||+----------------------------------------------------------+||\n",
            "|||                           Tags                           |||\n",
            "||+----------------------------------------------------------+||\n",
            "|||  []                                                      |||\n",
            "||+----------------------------------------------------------+||\n",
            "||                         InstanceSet                        ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "|| CPU | InstanceId  | InstanceName   | Memory  |  RenewFlag  ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "||  4  |  ins-def456 |  db-1          |  8      |             ||\n",
            "|+-----+-------------+----------------+---------+-------------+|\n",
            "|||                         Placement                        |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||       ProjectId       |              Zone                |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||  1                    |  ap-guangzhou-4                  |||\n",
            "||+-----------------------+----------------------------------+||\n",
            "|||                    PrivateIpAddresses                    |||\n",
            "||+----------------------------------------------------------+||\n",
            "|||  10.0.1.5                                                |||\n",
            "||+----------------------------------------------------------+||\n",
            "|||                           Tags                           |||\n",
            "||+------------------------+---------------------------------+||\n",
            "|||           Key          |              Value              |||\n",
            "||+------------------------+---------------------------------+||\n",
            "|||  env                   |  prod                           |||\n",
            "||+------------------------+---------------------------------+||\n",
        ))
    );
    case!(
        narrow_list_of_objects,
        r#"{"Zones": [
      {"Zone": "gz-3", "ZoneState": "AVAILABLE"},
      {"Zone": "gz-4", "ZoneState": "UNAVAILABLE"}]}"#,
        Some(concat!(
            "ZONES\tgz-3\tAVAILABLE\n",
            "ZONES\tgz-4\tUNAVAILABLE\n",
        )),
        Some(concat!(
            "---------------------------\n",
            "|         action          |\n",
            "+-------------------------+\n",
            "||         Zones         ||\n",
            "|+-------+---------------+|\n",
            "|| Zone  |   ZoneState   ||\n",
            "|+-------+---------------+|\n",
            "||  gz-3 |  AVAILABLE    ||\n",
            "||  gz-4 |  UNAVAILABLE  ||\n",
            "|+-------+---------------+|\n",
        ))
    );
    case!(
        empty_list,
        r#"[]"#,
        Some(""),
        Some(concat!(
            "--------\n",
            "|action|\n",
            "+------+\n",
            "|  []  |\n",
            "+------+\n",
        ))
    );
    case!(
        empty_object,
        r#"{}"#,
        Some(""),
        Some(concat!(
            "--------\n",
            "|action|\n",
            "+------+\n",
        ))
    );
    case!(
        top_level_string,
        r#""hello world""#,
        Some("hello world\n"),
        Some(concat!(
            "-----------------\n",
            "|    action     |\n",
            "+---------------+\n",
            "|  hello world  |\n",
            "+---------------+\n",
        ))
    );
    case!(
        top_level_number,
        r#"42"#,
        Some("42\n"),
        Some(concat!(
            "--------\n",
            "|action|\n",
            "+------+\n",
            "|  42  |\n",
            "+------+\n",
        ))
    );
    case!(
        top_level_null,
        r#"null"#,
        Some("None\n"),
        Some("")
    );
    case!(
        list_of_scalars,
        r#"[1, "two", 3.5, true, null]"#,
        Some("1\ttwo\t3.5\tTrue\tNone\n"),
        Some(concat!(
            "----------\n",
            "| action |\n",
            "+--------+\n",
            "|  1     |\n",
            "|  two   |\n",
            "|  3.5   |\n",
            "|  True  |\n",
            "|  None  |\n",
            "+--------+\n",
        ))
    );
    case!(
        nested_lists,
        r#"[[1, 2], [3, 4], [5, 6]]"#,
        Some(concat!(
            "1\t2\n",
            "3\t4\n",
            "5\t6\n",
        )),
        Some(concat!(
            "------------\n",
            "|  action  |\n",
            "+----+-----+\n",
            "|  1 |  2  |\n",
            "|  3 |  4  |\n",
            "|  5 |  6  |\n",
            "+----+-----+\n",
        ))
    );
    case!(
        nested_lists_ragged,
        r#"[[1, 2], [3, [4, 5]], "x"]"#,
        Some(concat!(
            "x\n",
            "1\t2\n",
            "3\n",
            "4\t5\n",
        )),
        None
    );
    case!(
        object_with_nested_lists,
        r#"{"Matrix": [[1, 2], [3, 4]], "Name": "m",
      "Tags": ["a", ["b", "c"]]}"#,
        Some(concat!(
            "m\n",
            "MATRIX\t1\n",
            "MATRIX\t2\n",
            "MATRIX\t3\n",
            "MATRIX\t4\n",
            "TAGS\ta\n",
            "TAGS\tb\n",
            "TAGS\tc\n",
        )),
        None
    );
    case!(
        nulls,
        r#"{"A": null, "B": [null, 1], "C": {"D": null, "E": 1}}"#,
        Some(concat!(
            "None\n",
            "B\tNone\n",
            "B\t1\n",
            "C\tNone\t1\n",
        )),
        Some(concat!(
            "-----------------\n",
            "|    action     |\n",
            "+-----+---------+\n",
            "|  A  |  None   |\n",
            "+-----+---------+\n",
            "||      B      ||\n",
            "|+-------------+|\n",
            "||  None       ||\n",
            "||  1          ||\n",
            "|+-------------+|\n",
            "||      C      ||\n",
            "|+-------+-----+|\n",
            "||   D   |  E  ||\n",
            "|+-------+-----+|\n",
            "||  None |  1  ||\n",
            "|+-------+-----+|\n",
        ))
    );
    case!(
        booleans,
        r#"{"Enabled": true, "Flags": [true, false],
      "Nested": {"On": false, "Off": true}}"#,
        Some(concat!(
            "True\n",
            "FLAGS\tTrue\n",
            "FLAGS\tFalse\n",
            "NESTED\tTrue\tFalse\n",
        )),
        Some(concat!(
            "---------------------\n",
            "|      action       |\n",
            "+----------+--------+\n",
            "|  Enabled |  True  |\n",
            "+----------+--------+\n",
            "||      Flags      ||\n",
            "|+-----------------+|\n",
            "||  True           ||\n",
            "||  False          ||\n",
            "|+-----------------+|\n",
            "||     Nested      ||\n",
            "|+-------+---------+|\n",
            "||  Off  |   On    ||\n",
            "|+-------+---------+|\n",
            "||  True |  False  ||\n",
            "|+-------+---------+|\n",
        ))
    );
    case!(
        floats,
        r#"{"Price": 12.5, "Values": [1.0, 0.5, 1e-05, 1e16, 123.456,
      -0.0, 1e15, 0.0001, 2.5e-300, 1.7976931348623157e308, 0.1, 100.0,
      832966553062042.25, 0.30000000000000004, 123456789012.0]}"#,
        Some(concat!(
            "12.5\n",
            "VALUES\t1.0\n",
            "VALUES\t0.5\n",
            "VALUES\t1e-05\n",
            "VALUES\t1e+16\n",
            "VALUES\t123.456\n",
            "VALUES\t-0.0\n",
            "VALUES\t1000000000000000.0\n",
            "VALUES\t0.0001\n",
            "VALUES\t2.5e-300\n",
            "VALUES\t1.7976931348623157e+308\n",
            "VALUES\t0.1\n",
            "VALUES\t100.0\n",
            "VALUES\t832966553062042.2\n",
            "VALUES\t0.30000000000000004\n",
            "VALUES\t123456789012.0\n",
        )),
        Some(concat!(
            "-------------------------------\n",
            "|           action            |\n",
            "+--------------+--------------+\n",
            "|  Price       |  12.5        |\n",
            "+--------------+--------------+\n",
            "||          Values           ||\n",
            "|+---------------------------+|\n",
            "||  1.0                      ||\n",
            "||  0.5                      ||\n",
            "||  1e-05                    ||\n",
            "||  1e+16                    ||\n",
            "||  123.456                  ||\n",
            "||  -0.0                     ||\n",
            "||  1000000000000000.0       ||\n",
            "||  0.0001                   ||\n",
            "||  2.5e-300                 ||\n",
            "||  1.7976931348623157e+308  ||\n",
            "||  0.1                      ||\n",
            "||  100.0                    ||\n",
            "||  832966553062042.2        ||\n",
            "||  0.30000000000000004      ||\n",
            "||  123456789012.0           ||\n",
            "|+---------------------------+|\n",
        ))
    );
    case!(
        unicode_cjk,
        r#"{"InstanceName": "测试实例", "Zone": "广州三区",
      "Tags": [{"Key": "环境", "Value": "生产"}, {"Key": "ß", "Value": "café"}],
      "标签": ["值一", "值二"]}"#,
        Some(concat!(
            "测试实例\t广州三区\n",
            "TAGS\t环境\t生产\n",
            "TAGS\tß\tcafé\n",
            "标签\t值一\n",
            "标签\t值二\n",
        )),
        Some(concat!(
            "--------------------------\n",
            "|         action         |\n",
            "+---------------+--------+\n",
            "| InstanceName  | Zone   |\n",
            "+---------------+--------+\n",
            "|  测试实例         |  广州三区  |\n",
            "+---------------+--------+\n",
            "||         Tags         ||\n",
            "|+--------+-------------+|\n",
            "||   Key  |    Value    ||\n",
            "|+--------+-------------+|\n",
            "||  环境    |  生产         ||\n",
            "||  ß     |  café       ||\n",
            "|+--------+-------------+|\n",
            "||          标签          ||\n",
            "|+----------------------+|\n",
            "||  值一                  ||\n",
            "||  值二                  ||\n",
            "|+----------------------+|\n",
        ))
    );
    case!(
        single_scalar_key,
        r#"{"RequestId": "abc-123"}"#,
        Some("abc-123\n"),
        Some(concat!(
            "--------------------------\n",
            "|         action         |\n",
            "+------------+-----------+\n",
            "|  RequestId |  abc-123  |\n",
            "+------------+-----------+\n",
        ))
    );
    case!(
        single_scalar_key_with_children,
        r#"{"RequestId": "abc-123",
      "Result": {"Ok": true, "Count": 3}}"#,
        Some(concat!(
            "abc-123\n",
            "RESULT\t3\tTrue\n",
        )),
        Some(concat!(
            "--------------------------\n",
            "|         action         |\n",
            "+------------+-----------+\n",
            "|  RequestId |  abc-123  |\n",
            "+------------+-----------+\n",
            "||        Result        ||\n",
            "|+-----------+----------+|\n",
            "||   Count   |   Ok     ||\n",
            "|+-----------+----------+|\n",
            "||  3        |  True    ||\n",
            "|+-----------+----------+|\n",
        ))
    );
    case!(
        no_scalars,
        r#"{"Items": [], "Meta": {"Inner": {"X": 1, "Y": [2]}}}"#,
        Some(concat!(
            "INNER\t1\n",
            "Y\t2\n",
        )),
        Some(concat!(
            "----------------\n",
            "|    action    |\n",
            "+--------------+\n",
            "||    Items   ||\n",
            "|+------------+|\n",
            "||  []        ||\n",
            "|+------------+|\n",
            "||    Meta    ||\n",
            "|+------------+|\n",
            "|||   Inner  |||\n",
            "||+----+-----+||\n",
            "|||  X |  1  |||\n",
            "||+----+-----+||\n",
            "||||    Y   ||||\n",
            "|||+--------+|||\n",
            "||||  2     ||||\n",
            "|||+--------+|||\n",
        ))
    );
    case!(
        heterogeneous_objects,
        r#"[
      {"a": 1, "b": [1, "x'y", "q\"", "\u00e9\n\t\u00a0\u4e2d", 2.0, null]},
      {"a": {"k": null, "l": [[]], "t": true}, "c": "z"},
      {"b": 7, "d": {}}]"#,
        Some(concat!(
            "1\t[1, \"x'y\", 'q\"', 'é\\n\\t\\xa0中', 2.0, None]\t\n",
            "{'k': None, 'l': [[]], 't': True}\t\tz\n",
            "\t7\t\n",
        )),
        Some(concat!(
            "---------------------------------------------------------\n",
            "|                        action                         |\n",
            "+---+----------------------------------------------+----+\n",
            "| a |                      b                       | c  |\n",
            "+---+----------------------------------------------+----+\n",
            "|  1|  [1, \"x'y\", 'q\"', 'é\\n\\t\\xa0中', 2.0, None]   |    |\n",
            "+---+----------------------------------------------+----+\n",
            "||                          a                          ||\n",
            "|+-----------------------------------------------------+|\n",
            "||  1                                                  ||\n",
            "|+-----------------------------------------------------+|\n",
            "||                          b                          ||\n",
            "|+-----------------------------------------------------+|\n",
            "||  1                                                  ||\n",
            "||  x'y                                                ||\n",
            "||  q\"                                                 ||\n",
            "||  é\n",
            "\t\u{a0}中                                              ||\n",
            "||  2.0                                                ||\n",
            "||  None                                               ||\n",
            "|+-----------------------------------------------------+|\n",
            "|                        action                         |\n",
            "+-------------------------------------------+-----+-----+\n",
            "|                     a                     |  b  |  c  |\n",
            "+-------------------------------------------+-----+-----+\n",
            "|  {'k': None, 'l': [[]], 't': True}        |     |  z  |\n",
            "+-------------------------------------------+-----+-----+\n",
            "||                          a                          ||\n",
            "|+-------------------------+---------------------------+|\n",
            "||            k            |             t             ||\n",
            "|+-------------------------+---------------------------+|\n",
            "||  None                   |  True                     ||\n",
            "|+-------------------------+---------------------------+|\n",
            "|||                         l                         |||\n",
            "|                        action                         |\n",
            "+-----------------+------------------+------------------+\n",
            "|        a        |        b         |        c         |\n",
            "+-----------------+------------------+------------------+\n",
            "|                 |  7               |                  |\n",
            "+-----------------+------------------+------------------+\n",
            "||                          b                          ||\n",
            "|+-----------------------------------------------------+|\n",
            "||  7                                                  ||\n",
            "|+-----------------------------------------------------+|\n",
            "||                          d                          ||\n",
            "|+-----------------------------------------------------+|\n",
        ))
    );
    case!(
        top_level_list_of_objects,
        r#"[{"Id": 1, "Sub": {"X": 1}},
      {"Id": 2, "Sub": {"X": 2}, "Extra": "e"}]"#,
        Some(concat!(
            "\t1\n",
            "SUB\t1\n",
            "e\t2\n",
            "SUB\t2\n",
        )),
        Some(concat!(
            "-----------------\n",
            "|    action     |\n",
            "+--------+------+\n",
            "|  Extra | Id   |\n",
            "+--------+------+\n",
            "|        |  1   |\n",
            "+--------+------+\n",
            "||     Sub     ||\n",
            "|+-----+-------+|\n",
            "||  X  |  1    ||\n",
            "|+-----+-------+|\n",
            "|    action     |\n",
            "+--------+------+\n",
            "|  Extra | Id   |\n",
            "+--------+------+\n",
            "|  e     |  2   |\n",
            "+--------+------+\n",
            "||     Sub     ||\n",
            "|+-----+-------+|\n",
            "||  X  |  2    ||\n",
            "|+-----+-------+|\n",
        ))
    );
    case!(
        control_characters,
        r#"{"Msg": "line1\nline2", "Tab": "a\tb"}"#,
        Some(concat!(
            "line1\n",
            "line2\ta\tb\n",
        )),
        Some(concat!(
            "------------------------\n",
            "|        action        |\n",
            "+--------------+-------+\n",
            "|      Msg     |  Tab  |\n",
            "+--------------+-------+\n",
            "|  line1\n",
            "line2 |  a\tb  |\n",
            "+--------------+-------+\n",
        ))
    );
    case!(
        objects_without_scalars,
        r#"{"L": [{"x": []}, {"x": [1]}]}"#,
        Some("X\t1\n"),
        Some(concat!(
            "------------\n",
            "|  action  |\n",
            "+----------+\n",
            "||    L   ||\n",
            "|||   x  |||\n",
            "||+------+||\n",
            "|||  []  |||\n",
            "||+------+||\n",
            "||    L   ||\n",
            "|||   x  |||\n",
            "||+------+||\n",
            "|||  1   |||\n",
            "||+------+||\n",
        ))
    );
    case!(
        wide_converted_to_vertical,
        r#"{"InstanceChargeType": "PREPAID",
      "InstanceId": "ins-0123456789abcdef", "InstanceName": "a-rather-long-name",
      "Ipv6Address": "2402:4e00:1016:d700:0:9ae4:2d6a:f1e9",
      "Rows": [{"Alpha": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Beta": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                "Gamma": "ccccccccccccccccccc"},
               {"Alpha": "a", "Beta": "b", "Gamma": "c"}]}"#,
        Some(concat!(
            "PREPAID\tins-0123456789abcdef\ta-rather-long-name\t2402:4e00:1016:d700:0:9ae4:2d6a:f1e9\n",
            "ROWS\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\tccccccccccccccccccc\n",
            "ROWS\ta\tb\tc\n",
        )),
        Some(concat!(
            "--------------------------------------------------------------------------------------------------------\n",
            "|                                                action                                                |\n",
            "+-----------------------------------+------------------------------------------------------------------+\n",
            "|  InstanceChargeType               |  PREPAID                                                         |\n",
            "|  InstanceId                       |  ins-0123456789abcdef                                            |\n",
            "|  InstanceName                     |  a-rather-long-name                                              |\n",
            "|  Ipv6Address                      |  2402:4e00:1016:d700:0:9ae4:2d6a:f1e9                            |\n",
            "+-----------------------------------+------------------------------------------------------------------+\n",
            "||                                                Rows                                                ||\n",
            "|+---------------------------------+-------------------------------------------+----------------------+|\n",
            "||              Alpha              |                   Beta                    |        Gamma         ||\n",
            "|+---------------------------------+-------------------------------------------+----------------------+|\n",
            "||  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa |  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  |  ccccccccccccccccccc ||\n",
            "||  a                              |  b                                        |  c                   ||\n",
            "|+---------------------------------+-------------------------------------------+----------------------+|\n",
        ))
    );
    case!(
        wide_single_row,
        r#"{"AAAAAAAAAAAAAAAAAAAA": "value-one-is-long",
      "BBBBBBBBBBBBBBBBBBBB": "value-two-is-longer",
      "CCCCCCCCCCCCCCCCCCCC": "value-three", "Inner": [{"P": 1, "Q": 2}]}"#,
        Some(concat!(
            "value-one-is-long\tvalue-two-is-longer\tvalue-three\n",
            "INNER\t1\t2\n",
        )),
        Some(concat!(
            "--------------------------------------------------------------------------\n",
            "|                                 action                                 |\n",
            "+----------------------+------------------------+------------------------+\n",
            "| AAAAAAAAAAAAAAAAAAAA | BBBBBBBBBBBBBBBBBBBB   | CCCCCCCCCCCCCCCCCCCC   |\n",
            "+----------------------+------------------------+------------------------+\n",
            "|  value-one-is-long   |  value-two-is-longer   |  value-three           |\n",
            "+----------------------+------------------------+------------------------+\n",
            "||                                 Inner                                ||\n",
            "|+----------------------------------+-----------------------------------+|\n",
            "||                 P                |                 Q                 ||\n",
            "|+----------------------------------+-----------------------------------+|\n",
            "||  1                               |  2                                ||\n",
            "|+----------------------------------+-----------------------------------+|\n",
        ))
    );
    case!(
        deepish,
        r#"{"a": {"b": {"c": {"d": [{"e": 2, "f": [{"g": "h"}]},
      {"e": 3}]}}}}"#,
        Some(concat!(
            "D\t2\n",
            "F\th\n",
            "D\t3\n",
        )),
        Some(concat!(
            "-----------------\n",
            "|    action     |\n",
            "+---------------+\n",
            "||      a      ||\n",
            "|+-------------+|\n",
            "|||     b     |||\n",
            "||+-----------+||\n",
            "||||    c    ||||\n",
            "|||+---------+|||\n",
            "|||||   d   |||||\n",
            "||||+-------+||||\n",
            "|||||   e   |||||\n",
            "||||+-------+||||\n",
            "|||||  2    |||||\n",
            "||||+-------+||||\n",
            "||||||  f  ||||||\n",
            "|||||+-----+|||||\n",
            "||||||  g  ||||||\n",
            "|||||+-----+|||||\n",
            "||||||  h  ||||||\n",
            "|||||+-----+|||||\n",
            "|||||   d   |||||\n",
            "||||+-------+||||\n",
            "|||||   e   |||||\n",
            "||||+-------+||||\n",
            "|||||  3    |||||\n",
            "||||+-------+||||\n",
        ))
    );
    case!(
        empty_key,
        r#"{"": [1, 2], "k": {"": "v"}}"#,
        Some(concat!(
            "\t1\n",
            "\t2\n",
            "K\tv\n",
        )),
        Some(concat!(
            "-------------\n",
            "|  action   |\n",
            "+-----------+\n",
            "|+---------+|\n",
            "||  1      ||\n",
            "||  2      ||\n",
            "|+---------+|\n",
            "||    k    ||\n",
            "|+---+-----+|\n",
            "||   |  v  ||\n",
            "|+---+-----+|\n",
        ))
    );
    case!(
        list_of_objects_then_empty_list,
        r#"[{}, []]"#,
        None,
        Some(concat!(
            "--------\n",
            "|action|\n",
        ))
    );
    case!(
        list_of_objects_then_scalar,
        r#"[{"a": 1}, 2]"#,
        None,
        None
    );
    case!(
        list_scalar_then_list,
        r#"[1, [2, 3]]"#,
        Some(concat!(
            "1\n",
            "2\t3\n",
        )),
        None
    );
    // END GENERATED

    /// A deeply nested value, taken apart iteratively when dropped (also
    /// while unwinding from a failed assertion): serde_json's own drop
    /// recurses and would overflow the stack.
    struct Deep(Value);

    impl Drop for Deep {
        fn drop(&mut self) {
            let mut stack = vec![std::mem::take(&mut self.0)];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Array(items) => stack.extend(items),
                    Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                    _ => {}
                }
            }
        }
    }

    /// Builds a value nested `depth` levels deep without recursion.
    fn deep(depth: usize, wrap: impl Fn(Value) -> Value) -> Deep {
        let mut value = json!("leaf");
        for _ in 0..depth {
            value = wrap(value);
        }
        Deep(value)
    }

    fn wrap_in_object(value: Value) -> Value {
        Value::Object(Map::from_iter([("k".to_owned(), value)]))
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        const DEPTH: usize = 200_000;
        let lists = deep(DEPTH, |v| Value::Array(vec![v]));
        assert_eq!(text(&lists.0), "leaf\n");
        assert!(table(&lists.0).contains("|  leaf  |"));

        let objects = deep(DEPTH, wrap_in_object);
        assert_eq!(text(&objects.0), "K\tleaf\n");
        // Each object level is an indented section, so the table grows with
        // the square of the depth; keep that one smaller.
        let objects = deep(1_000, wrap_in_object);
        let rendered = table(&objects.0);
        // Dash line, then title and border for each of 999 levels without
        // scalars, then title, borders and the `k | leaf` row.
        assert_eq!(rendered.lines().count(), 1 + 2 * 999 + 4);

        // A deep list in a scalar column is printed with Python's repr.
        let mut lists = lists;
        let inner = std::mem::take(&mut lists.0);
        // (Built by hand: `json!` would copy `inner` recursively.)
        let second = Value::Object(Map::from_iter([("a".to_owned(), inner)]));
        let mixed = Deep(Value::Array(vec![json!({"a": 1}), second]));
        let out = text(&mixed.0);
        assert!(out.starts_with("1\n[[[["));
        assert!(out.ends_with(&format!("'leaf'{}\n", "]".repeat(DEPTH))));
        // Every line is as wide as that repr, so the `leaf` cell is padded.
        let rendered = table(&mixed.0);
        assert!(rendered.contains("|  leaf   "));
    }

    /// `[{"k0": 0}, {"k1": 0}, ...]`: every row gets a cell for every key
    /// of the list, `count` squared cells from `count` objects.
    fn distinct_keys(count: usize) -> Value {
        Value::Array((0..count).map(|i| json!({ format!("k{i}"): 0 })).collect())
    }

    #[test]
    fn rows_times_keys_is_counted_and_refused_past_the_limit() {
        let limits = ResponseLimits::new().with_max_values(10_000);
        // 90 objects: 90 rows of 90 cells (and a table's 90 headers).
        assert!(super::text(&distinct_keys(90), limits, Strings::Raw).is_ok());
        assert!(super::table(&distinct_keys(90), limits, Strings::Raw).is_ok());
        // 200: 40 000 cells, from 2 KB of JSON.
        let refused = Refused::Limit(LimitExceeded::Values(10_000));
        assert_eq!(
            super::text(&distinct_keys(200), limits, Strings::Raw),
            Err(refused.clone())
        );
        assert_eq!(
            super::table(&distinct_keys(200), limits, Strings::Raw),
            Err(refused)
        );
        // With the default limits: 9 million cells from 50 KB.
        let big = distinct_keys(3_000);
        let default = ResponseLimits::new();
        let limit = Refused::Limit(LimitExceeded::Values(ResponseLimits::DEFAULT_MAX_VALUES));
        assert_eq!(super::text(&big, default, Strings::Raw), Err(limit.clone()));
        assert_eq!(super::table(&big, default, Strings::Raw), Err(limit));
    }

    #[test]
    fn a_table_padded_past_its_byte_limit_is_refused_before_it_is_written() {
        // Every line is padded to the widest cell: 20 000 rows × 10 000
        // columns would be 200 MB from 300 KB of JSON.
        let mut rows: Vec<Value> = vec![json!({"a": ""}); 20_000];
        assert!(super::table(&Value::Array(rows.clone()), ResponseLimits::new(), Strings::Raw).is_ok());
        rows.push(json!({"a": "x".repeat(10_000)}));
        let refused = super::table(&Value::Array(rows), ResponseLimits::new(), Strings::Raw).unwrap_err();
        let Refused::TableBytes { bytes, width } = refused else {
            panic!("{refused:?}");
        };
        assert_eq!(width, 10_000 + 6);
        assert!(bytes > MAX_TABLE_BYTES as u128, "{bytes}");
        assert!(
            refused.to_string().contains("(the limit `MAX_TABLE_BYTES`)"),
            "{refused}"
        );
    }

    #[test]
    fn the_byte_estimate_is_the_table_written() {
        let value = json!({"Items": [{"a": "é", "b": 1}, {"a": "x", "b": 22}], "Total": 2});
        let mut builder = TableBuilder::new(ResponseLimits::new());
        builder.run("action", &value);
        let max_width = builder.sections.iter().map(Section::total_width).max().unwrap();
        let estimate = rendered_bytes(&builder.sections, max_width);
        let written = render(&mut builder.sections).unwrap();
        // The estimate counts the cells' text once more, as a bound.
        assert!(
            written.len() as u128 <= estimate,
            "{} > {estimate}",
            written.len()
        );
        assert!(
            estimate <= 2 * written.len() as u128,
            "{estimate} vs {}",
            written.len()
        );
    }

    #[test]
    fn python_float_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (-0.00012, "-0.00012"),
            (123456789.125, "123456789.125"),
            (5e-324, "5e-324"),
            (-1.25e100, "-1.25e+100"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (f, expected) in cases {
            let mut s = String::new();
            push_py_float(&mut s, f);
            assert_eq!(s, expected, "{f:e}");
        }
    }

    #[test]
    fn python_scalars_and_integers() {
        assert_eq!(text(&json!(u64::MAX)), "18446744073709551615\n");
        assert_eq!(text(&json!(i64::MIN)), "-9223372036854775808\n");
        assert_eq!(text(&json!(false)), "False\n");
        // Known difference: serde_json stores `-0` as the float -0.0, so it
        // prints like Python's -0.0 rather than the integer 0.
        let v: Value = serde_json::from_str("-0").unwrap();
        assert_eq!(text(&v), "-0.0\n");
    }

    #[test]
    fn python_string_repr() {
        let mut s = String::new();
        push_py_str_repr(&mut s, "it's \"both\" \\ \u{7f}\u{200b}\u{1F600}\u{e000}\u{fffe}");
        assert_eq!(s, "'it\\'s \"both\" \\\\ \\x7f\\u200b\u{1F600}\\ue000\\ufffe'");
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let inputs = [
            json!([{"a": 1}, [1, 2], "x", null, {"b": [{"c": 1}, 2]}]),
            json!([[{"a": 1, "n": [1]}, {"a": 2, "n": [2]}], 3, {"z": 1}]),
            json!([[], [1], [[]], [{}], {}]),
            json!({"": {"": [{"": null}]}}),
            json!([1, {"a": {"b": 1}}, [[1, 2], [3]]]),
        ];
        for input in &inputs {
            let _ = text(input);
            let rendered = table(input);
            assert!(rendered.starts_with('-'), "{rendered}");
        }
    }

    /// An answer whose strings try to forge output: a value with a line
    /// feed and a fake line after it, a carriage return, a tab, an escape
    /// sequence, a bidirectional override, and a member name with a line feed.
    fn forging() -> Value {
        json!({
            "InstanceSet": [
                {"InstanceId": "ins-1", "InstanceName": "web\nINSTANCESET\tins-forged\tadmin"},
                {"InstanceId": "ins-2\r", "InstanceName": "db\t\u{1b}[2J\u{202e}x"}
            ],
            "Tags": {"evil\nKEY": "v"},
            "RequestId": "req\nOK"
        })
    }

    #[test]
    fn inert_strings_cannot_forge_lines_or_drive_the_terminal() {
        let value = forging();
        let text_out = inert_or_raw_text(&value, Strings::Inert);
        assert_eq!(
            text_out,
            concat!(
                "req\\nOK\n",
                "INSTANCESET\tins-1\tweb\\nINSTANCESET\\tins-forged\\tadmin\n",
                "INSTANCESET\tins-2\\r\tdb\\t\\u{1b}[2J\\u{202e}x\n",
                "TAGS\tv\n",
            )
        );
        let table_out = inert_or_raw_table(&value, Strings::Inert);
        // Escaped before the layout: every line is a table line of one width.
        let widths: BTreeSet<usize> = table_out.lines().map(char_len).collect();
        assert_eq!(widths.len(), 1, "{table_out}");
        assert!(
            table_out.contains("web\\nINSTANCESET\\tins-forged"),
            "{table_out}"
        );
        assert!(table_out.contains("evil\\nKEY"), "{table_out}");
        for out in [&text_out, &table_out] {
            let layout_only = out
                .chars()
                .filter(|c| c.is_control())
                .all(|c| c == '\n' || c == '\t');
            assert!(layout_only, "{out:?}");
            assert!(!out.contains('\u{202e}'), "{out:?}");
        }
        // Member names go through the same: a title, a text label.
        let nested = json!({"Set\nFORGED": [{"a": 1}], "x": {"Name\r": ["y"]}});
        assert_eq!(
            inert_or_raw_text(&nested, Strings::Inert),
            "SET\\nFORGED\t1\nNAME\\r\ty\n"
        );
        assert!(inert_or_raw_table(&nested, Strings::Inert).contains("Set\\nFORGED"));
    }

    #[test]
    fn raw_strings_are_tccli_s_and_inert_ones_differ_only_where_escaped() {
        let value = forging();
        // Raw, for pipes and files: as tccli prints them.
        assert!(inert_or_raw_text(&value, Strings::Raw).contains("web\nINSTANCESET\tins-forged\tadmin\n"));
        // Nothing to escape: the same bytes either way.
        let plain = json!({"InstanceSet": [{"InstanceId": "ins-1", "Tags": ["a", "é"]}], "RequestId": "r"});
        assert_eq!(
            inert_or_raw_text(&plain, Strings::Inert),
            inert_or_raw_text(&plain, Strings::Raw)
        );
        assert_eq!(
            inert_or_raw_table(&plain, Strings::Inert),
            inert_or_raw_table(&plain, Strings::Raw)
        );
    }
}
