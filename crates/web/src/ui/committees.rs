//! 委员会与换届 pages: an organization's committee — the current term with its members, its end, the reminder
//! and an approved postponement; the earlier terms; the elections with their counts — and, for those who
//! record it, three forms without script: 记录换届选举 (each member's yes votes and post), 登记现任委员会 (a
//! committee elected before the platform was used) and 延期换届. Handlers call one `life::committees`
//! function each; a refused form comes back with its values and the Chinese messages (with the article).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use life::committees::Committees;
use life::committees::model::{CandidateInput, ElectionInput, MemberInput, Post, PostponeInput, Term, TermInput};
use life::committees::service::Committee;
use platform::model::Org;

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn fail(e: life::Error, c: &Caller) -> Response {
    super::platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// A number item of a form: blank is absent; anything else that is not a number is absent too, and the
/// service then asks for it.
fn number(f: &[(String, String)], key: &str) -> Option<u32> {
    first(f, key).and_then(|v| v.trim().parse().ok())
}

/// A member of the organization in the forms: id, name, formal member.
struct Person {
    id: i64,
    name: String,
    formal: bool,
}

#[derive(Template)]
#[template(path = "committee.html")]
struct CommitteePage {
    chrome: Chrome,
    crumbs: Vec<Org>,
    org: Org,
    c: Committee,
    may_write: bool,
    people: Vec<Person>,
    posts: &'static [Post],
    flash: &'static str,
    /// The form sent back with its errors: "election", "term" or "postpone".
    open: &'static str,
    values: Pairs,
    errors: BTreeMap<String, String>,
}

impl CommitteePage {
    fn val(&self, key: &str) -> &str {
        self.values.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    fn err(&self, key: &str) -> Option<&str> {
        self.errors.get(key).map(String::as_str)
    }

    /// Errors of list items (`candidates.2.votes`, `members.0.post`), as one line each.
    fn item_errors(&self, list: &str) -> Vec<String> {
        let prefix = format!("{list}.");
        self.errors.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, v)| v.clone()).collect()
    }

    fn date(d: &Option<time::Date>) -> String {
        d.map(kernel::dates::iso).unwrap_or_default()
    }

    fn status_class(t: &Term) -> &'static str {
        match t.status {
            Some(life::rules::TermStatus::Overdue) => "bad",
            Some(life::rules::TermStatus::DueSoon) => "due",
            _ => "ok",
        }
    }

    fn secretary(t: &Term) -> String {
        t.members.iter().find(|m| m.post == Post::Secretary).map_or_else(|| "未确定".into(), |m| m.name.clone())
    }

    fn names(t: &Term) -> String {
        let v: Vec<String> = t.members.iter().map(|m| format!("{}（{}）", m.name, m.post_label)).collect();
        v.join("、")
    }

    fn findings(e: &life::committees::model::Election) -> Vec<String> {
        e.findings
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["message"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
}

async fn page(
    s: &AppState,
    c: &Caller,
    id: i64,
    flash: &'static str,
    open: &'static str,
    values: Pairs,
    errors: BTreeMap<String, String>,
) -> Result<CommitteePage, life::Error> {
    let committees = Committees::new(&s.platform);
    let committee = committees.get(&c.ctx, &c.actor, id, kernel::dates::today()).await?;
    let people = committees
        .roster(&c.ctx, &c.actor, id)
        .await?
        .into_iter()
        .map(|(id, name, formal)| Person { id, name, formal })
        .collect();
    let org = committee.org.clone().ok_or(life::Error::NotFound)?;
    let crumbs = s.platform.lineage(&c.actor, &org).await?;
    Ok(CommitteePage {
        chrome: Chrome::new(s, c, "orgs"),
        crumbs,
        may_write: Committees::may_write(&c.actor, &org),
        org,
        c: committee,
        people,
        posts: Post::ALL,
        flash,
        open,
        values,
        errors,
    })
}

pub async fn committee_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let flash = match q.get("saved").map(String::as_str) {
        Some("election") => "换届选举已记录，新一届委员会已产生。",
        Some("term") => "现任委员会已登记。",
        Some("postpone") => "延期（提前）换届的批准已记录。",
        _ => "",
    };
    match page(&s, &c, id, flash, "", Vec::new(), BTreeMap::new()).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => fail(e, &c),
    }
}

/// The same page with the refused form open, its values and messages (422).
async fn refused(
    s: &AppState,
    c: &Caller,
    id: i64,
    open: &'static str,
    f: Pairs,
    e: BTreeMap<String, String>,
) -> Response {
    match page(s, c, id, "", open, f, e).await {
        Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
        Err(e) => fail(e, c),
    }
}

/// The member rows of a form: `prefix{person}` items that are not blank, in the order sent.
fn rows<'p>(f: &'p [(String, String)], prefix: &str) -> Vec<(i64, &'p str)> {
    f.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.parse().ok()?, v.as_str())))
        .filter(|(_, v): &(i64, &str)| !v.trim().is_empty())
        .collect()
}

pub async fn election_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let posts: BTreeMap<i64, &str> = rows(&f, "post_").into_iter().collect();
    let candidates = rows(&f, "votes_")
        .into_iter()
        .map(|(p, v)| CandidateInput {
            person_id: Some(p),
            votes: v.trim().parse().ok(),
            post: posts.get(&p).map(|s| s.to_string()),
        })
        .collect();
    let input = ElectionInput {
        held_on: first(&f, "held_on").map(str::to_string),
        entitled: number(&f, "entitled"),
        present: number(&f, "present"),
        seats: number(&f, "seats"),
        term_years: number(&f, "term_years"),
        candidates: Some(candidates),
    };
    match Committees::new(&s.platform).record_election(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/orgs/{id}/committee?saved=election")).into_response(),
        Err(life::Error::Invalid(e)) => refused(&s, &c, id, "election", f, e).await,
        Err(e) => fail(e, &c),
    }
}

pub async fn term_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    let members = rows(&f, "post_")
        .into_iter()
        .map(|(p, post)| MemberInput { person_id: Some(p), post: Some(post.to_string()) })
        .collect();
    let input = TermInput {
        elected_on: first(&f, "elected_on").map(str::to_string),
        term_years: number(&f, "term_years"),
        members: Some(members),
    };
    match Committees::new(&s.platform).record_term(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/orgs/{id}/committee?saved=term")).into_response(),
        Err(life::Error::Invalid(e)) => refused(&s, &c, id, "term", f, e).await,
        Err(e) => fail(e, &c),
    }
}

pub async fn postpone_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = PostponeInput {
        postpone_to: first(&f, "postpone_to").map(str::to_string),
        reason: first(&f, "reason").map(str::to_string),
        approved_by: first(&f, "approved_by").map(str::to_string),
        approved_on: first(&f, "approved_on").map(str::to_string),
    };
    match Committees::new(&s.platform).postpone(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/orgs/{id}/committee?saved=postpone")).into_response(),
        Err(life::Error::Invalid(e)) => refused(&s, &c, id, "postpone", f, e).await,
        Err(e) => fail(e, &c),
    }
}
