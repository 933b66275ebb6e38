//! The fields of the 学习教育 authoring forms (题库, 线上党课, 积分规则): like forms.rs `Field`, plus
//! multi-line text and an id prefix, because one page carries several forms (a bank's page has the question
//! form and the exam form). Drawn one at a time by `learn_field.html`: label above, the Chinese message under
//! the field, the first field in error focused, what was typed kept after a refusal.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;

pub struct Input {
    pub form: &'static str,
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub required: bool,
    pub hint: &'static str,
    pub error: Option<String>,
    pub autofocus: bool,
    /// Lines of a textarea (0: one-line input).
    pub rows: u8,
    /// `text`, `number`, `datetime-local`, `url`.
    pub input_type: &'static str,
    /// A select's (value, label); empty: not a select.
    pub choices: Vec<(String, String)>,
}

impl Input {
    pub fn new(form: &'static str, name: &'static str, label: &'static str) -> Input {
        Input {
            form,
            name,
            label,
            value: String::new(),
            required: false,
            hint: "",
            error: None,
            autofocus: false,
            rows: 0,
            input_type: "text",
            choices: Vec::new(),
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }
    pub fn hint(mut self, h: &'static str) -> Self {
        self.hint = h;
        self
    }
    pub fn rows(mut self, r: u8) -> Self {
        self.rows = r;
        self
    }
    pub fn kind(mut self, t: &'static str) -> Self {
        self.input_type = t;
        self
    }
    pub fn choices(mut self, c: Vec<(String, String)>) -> Self {
        self.choices = c;
        self
    }
    /// The element id: the form's prefix and the name.
    pub fn id(&self) -> String {
        format!("{}-{}", self.form, self.name)
    }
}

/// Sets each field's message and focuses the first in error; returns the summary line above the form.
pub fn apply(fields: &mut [Input], errors: Option<&BTreeMap<String, String>>) -> Option<String> {
    let errors = errors?;
    let mut focused = false;
    for f in fields.iter_mut() {
        f.error = errors.get(f.name).cloned();
        if f.error.is_some() && !focused {
            f.autofocus = true;
            focused = true;
        }
    }
    // Messages without a field of their own (e.g. `org_id` when the select is hidden) go in the summary.
    let loose: Vec<&String> =
        errors.iter().filter(|(k, _)| !fields.iter().any(|f| f.name == k.as_str())).map(|(_, v)| v).collect();
    let mut s = format!("有{}处需要修改，请按提示修改后再提交。", errors.len());
    for m in loose {
        s.push(' ');
        s.push_str(m);
    }
    Some(s)
}

/// The first value of `key` in a posted form.
pub fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The trimmed value of `key`, none when empty.
pub fn opt(f: &[(String, String)], key: &str) -> Option<String> {
    first(f, key).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// A number field: none when empty, -1 when not a number (the service then says what is wrong).
pub fn number(f: &[(String, String)], key: &str) -> Option<i64> {
    opt(f, key).map(|v| v.parse().unwrap_or(-1))
}

/// The organizations a caller may publish to, as select choices.
pub fn org_choices(targets: Vec<(i64, String)>) -> Vec<(String, String)> {
    targets.into_iter().map(|(id, name)| (id.to_string(), name)).collect()
}

/// Renders a page whose builder may already have answered (a refusal as its error page).
pub fn respond<T: askama::Template>(status: StatusCode, page: Result<T, Response>) -> Response {
    match page {
        Ok(p) => super::render(status, &p),
        Err(r) => r,
    }
}

/// The confirmation a redirect asked for with `?key=1`: the first of `messages` whose key is in the query.
pub fn flash(query: &BTreeMap<String, String>, messages: &[(&str, &str)]) -> Option<(String, &'static str)> {
    messages.iter().find(|(k, _)| query.contains_key(*k)).map(|(_, m)| (m.to_string(), "ok"))
}
