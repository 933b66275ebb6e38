//! Form fields described in Rust and drawn by one template loop: label above, required mark, the
//! Chinese message beside the field, the first field in error focused, values kept on a failed submit.

use std::collections::BTreeMap;

pub enum Kind {
    Text,
    Password,
    Date,
    Tel,
    Select(Vec<(String, String)>),
    Hidden,
    /// A file input; the text is its `accept` list. The form must be `multipart/form-data`, and a refused
    /// form cannot refill it.
    File(&'static str),
}

pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub value: String,
    pub required: bool,
    pub hint: &'static str,
    pub error: Option<String>,
    pub autofocus: bool,
    pub autocomplete: &'static str,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: Kind) -> Field {
        Field {
            name,
            label,
            kind,
            value: String::new(),
            required: false,
            hint: "",
            error: None,
            autofocus: false,
            autocomplete: "off",
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
    pub fn autocomplete(mut self, a: &'static str) -> Self {
        self.autocomplete = a;
        self
    }
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Password => "password",
            Kind::Date => "date",
            Kind::Tel => "tel",
            Kind::Hidden => "hidden",
            Kind::File(_) => "file",
            _ => "text",
        }
    }
    pub fn is_select(&self) -> bool {
        matches!(self.kind, Kind::Select(_))
    }
    /// The `accept` list of a file input.
    pub fn accept(&self) -> Option<&'static str> {
        match self.kind {
            Kind::File(a) => Some(a),
            _ => None,
        }
    }
    pub fn is_hidden(&self) -> bool {
        matches!(self.kind, Kind::Hidden)
    }
    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            Kind::Select(o) => o,
            _ => &[],
        }
    }
}

/// Sets each field's error from `errors` and focuses the first field in error.
pub fn apply_errors(fields: &mut [Field], errors: &BTreeMap<String, String>) {
    let mut focused = false;
    for f in fields.iter_mut() {
        f.error = errors.get(f.name).cloned();
        if f.error.is_some() && !focused {
            f.autofocus = true;
            focused = true;
        }
    }
}

/// Options of a code list, with an empty "请选择" first.
pub fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "请选择".to_string())];
    out.extend(all.iter().map(|v| (code(*v).to_string(), label(*v).to_string())));
    out
}

/// The "正文格式" choice of a rich-text form (a learning material, a notice): plain text or HTML that is
/// sanitized before it is stored.
pub fn body_format_field(value: Option<&str>) -> Field {
    Field::new(
        "body_format",
        "正文格式",
        Kind::Select(vec![
            ("text".into(), "纯文本（空一行分段）".into()),
            ("html".into(), "富文本（HTML，保存前自动清理脚本等不安全内容）".into()),
        ]),
    )
    .value(value.unwrap_or("text"))
}

/// The stage checkboxes of an audience (code, label, checked), checked as the submitted `stage` items say.
pub fn stage_choices(submitted: &[(String, String)]) -> Vec<(String, String, bool)> {
    let chosen: Vec<&str> = submitted.iter().filter(|(k, _)| k == "stage").map(|(_, v)| v.as_str()).collect();
    platform::model::Stage::ALL
        .iter()
        .map(|st| (st.code().to_string(), st.label().to_string(), chosen.contains(&st.code())))
        .collect()
}
