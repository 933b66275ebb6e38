//! The rules of exams, pure (no I/O, no clock): how each kind of question is graded, how a fill-in answer
//! is normalised, how a paper is drawn from a bank (seeded, so the same attempt always shows the same
//! paper), and how a score becomes a percentage.
//!
//! **Grading** (each question is worth [`FULL`] hundredths; an exam's percentage is the sum over the paper):
//! * single choice and true/false: the one right option → full, anything else (nothing, a wrong option,
//!   several options) → 0;
//! * multiple choice (the usual rule of Chinese exams, 多选题少选得一半分，错选不得分): exactly the right
//!   options → full; some of the right options and no wrong one → half; any wrong option, or nothing → 0;
//! * fill-in: each blank is right when its normalised answer equals one of the accepted answers normalised
//!   the same way ([`normalise`]: full-width letters, digits and punctuation folded to half width, every
//!   space removed, Latin letters lower-cased); the question earns its share per right blank (two blanks,
//!   one right → half), rounded down.

use std::collections::BTreeSet;

use kernel::rng::Rng;

use crate::exams::model::QuestionKind;

/// What one question is worth, in hundredths.
pub const FULL: i64 = 100;
/// The most options a choice question has (A…H).
pub const MAX_OPTIONS: usize = 8;
/// The most blanks of a fill-in question.
pub const MAX_BLANKS: usize = 5;
/// A submission this long after the deadline is still accepted (the network, a slow phone).
pub const GRACE_SECONDS: i64 = 30;

/// "A" for 0, "B" for 1, …
pub fn letter(i: usize) -> String {
    char::from(b'A' + (i.min(25) as u8)).to_string()
}

/// 0 for "A" (or "a", or the full-width "Ａ"), …
pub fn index_of(letter: &str) -> Option<usize> {
    let l = normalise(letter);
    let mut chars = l.chars();
    let c = chars.next()?;
    if chars.next().is_some() || !c.is_ascii_lowercase() {
        return None;
    }
    Some(usize::from(c as u8 - b'a'))
}

/// Folds full-width forms to half width (U+FF01…U+FF5E → U+0021…U+007E, the ideographic space to a space),
/// removes every white space and lower-cases Latin letters: "Ｘ Ｉ  Ｘ" and "xix" compare equal, "党 费" and
/// "党费" too.
pub fn normalise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key of a question: the right option letters (choices), or per blank the accepted answers (fill-in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    Choices(BTreeSet<usize>),
    Blanks(Vec<Vec<String>>),
}

/// The credit of one answer, in hundredths of the question. `given`: the option indexes chosen (choices)
/// or the text of each blank (fill-in, in order); `None` or empty: not answered.
pub fn grade(kind: QuestionKind, key: &Key, given: &[String]) -> i64 {
    match (kind, key) {
        (QuestionKind::Single | QuestionKind::Judge, Key::Choices(right)) => {
            let chosen: BTreeSet<usize> = given.iter().filter_map(|g| index_of(g)).collect();
            if chosen.len() == 1 && chosen == *right { FULL } else { 0 }
        }
        (QuestionKind::Multiple, Key::Choices(right)) => {
            let chosen: BTreeSet<usize> = given.iter().filter_map(|g| index_of(g)).collect();
            if chosen.is_empty() || !chosen.is_subset(right) {
                0
            } else if chosen == *right {
                FULL
            } else {
                FULL / 2
            }
        }
        (QuestionKind::Fill, Key::Blanks(blanks)) => {
            if blanks.is_empty() {
                return 0;
            }
            let right = blanks
                .iter()
                .enumerate()
                .filter(|(i, accepted)| {
                    let g = given.get(*i).map(|g| normalise(g)).unwrap_or_default();
                    !g.is_empty() && accepted.iter().any(|a| normalise(a) == g)
                })
                .count() as i64;
            FULL * right / blanks.len() as i64
        }
        _ => 0,
    }
}

/// A score as a percentage, rounded half up; 0 of 0 is 0.
pub fn percent(earned: i64, possible: i64) -> i64 {
    if possible <= 0 { 0 } else { (earned.max(0) * 200 + possible) / (2 * possible) }
}

/// A question of the bank as the draw sees it.
#[derive(Clone, Debug)]
pub struct Drawable {
    pub id: i64,
    pub tags: Vec<String>,
    pub difficulty: i64,
}

/// The questions that may be drawn: those with the tag (if any) and the difficulty (if any), by id.
pub fn eligible(pool: &[Drawable], tag: Option<&str>, difficulty: Option<i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = pool
        .iter()
        .filter(|q| tag.is_none_or(|t| q.tags.iter().any(|x| x == t)))
        .filter(|q| difficulty.is_none_or(|d| q.difficulty == d))
        .map(|q| q.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// Draws `count` of the eligible questions in a random order fixed by `seed` (a partial Fisher–Yates shuffle
/// over the ids in ascending order, so the same seed and bank give the same paper on every machine).
pub fn draw(pool: &[Drawable], tag: Option<&str>, difficulty: Option<i64>, count: usize, seed: u64) -> Vec<i64> {
    let mut ids = eligible(pool, tag, difficulty);
    let mut rng = Rng::new(seed);
    let n = ids.len();
    let take = count.min(n);
    for i in 0..take {
        let j = i + rng.below((n - i) as u64) as usize;
        ids.swap(i, j);
    }
    ids.truncate(take);
    ids
}

/// The seed of an attempt: its exam, person and number mixed with a value the caller picks at start (the
/// start time), so two attempts of one person get different papers and a reload gets the same one.
pub fn seed(exam_id: i64, person_id: i64, number: i64, salt: i64) -> u64 {
    let mut r = Rng::new((exam_id as u64).wrapping_mul(0x1000_0000_01b3) ^ (person_id as u64).rotate_left(21));
    let a = r.next_u64() ^ (number as u64).rotate_left(42) ^ salt as u64;
    Rng::new(a).next_u64() >> 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(v: &[usize]) -> Key {
        Key::Choices(v.iter().copied().collect())
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn single_choice_and_true_false_are_all_or_nothing() {
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &s(&["B"])), FULL);
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &s(&["b"])), FULL, "letters in any case");
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &s(&["Ｂ"])), FULL, "full-width letter");
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &s(&["A"])), 0);
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &s(&["A", "B"])), 0, "two options for one");
        assert_eq!(grade(QuestionKind::Single, &choices(&[1]), &[]), 0);
        assert_eq!(grade(QuestionKind::Judge, &choices(&[0]), &s(&["A"])), FULL);
        assert_eq!(grade(QuestionKind::Judge, &choices(&[0]), &s(&["B"])), 0);
    }

    #[test]
    fn multiple_choice_gives_half_for_some_right_and_nothing_for_any_wrong() {
        let key = choices(&[0, 2, 3]);
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["A", "C", "D"])), FULL);
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["D", "A", "C"])), FULL, "order does not matter");
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["A", "C"])), FULL / 2, "少选得一半");
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["A"])), FULL / 2);
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["A", "B"])), 0, "错选不得分");
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["A", "B", "C", "D"])), 0);
        assert_eq!(grade(QuestionKind::Multiple, &key, &[]), 0);
        assert_eq!(grade(QuestionKind::Multiple, &key, &s(&["Z"])), 0, "an unknown letter is no answer");
    }

    #[test]
    fn fill_in_is_normalised_and_scored_per_blank() {
        let key = Key::Blanks(vec![s(&["党费", "党的经费"]), s(&["XIX", "十九"])]);
        assert_eq!(grade(QuestionKind::Fill, &key, &s(&["党费", "十九"])), FULL);
        assert_eq!(grade(QuestionKind::Fill, &key, &s(&[" 党 费 ", "ｘｉｘ"])), FULL, "spaces and full width");
        assert_eq!(grade(QuestionKind::Fill, &key, &s(&["党的经费", "二十"])), FULL / 2);
        assert_eq!(grade(QuestionKind::Fill, &key, &s(&["", "十九"])), FULL / 2);
        assert_eq!(grade(QuestionKind::Fill, &key, &s(&["党员"])), 0);
        let three = Key::Blanks(vec![s(&["一"]), s(&["二"]), s(&["三"])]);
        assert_eq!(grade(QuestionKind::Fill, &three, &s(&["一", "二", "四"])), 66, "two of three, rounded down");
        assert_eq!(normalise("Ａｂｃ　１２３！"), "abc123!");
    }

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(percent(250, 300), 83);
        assert_eq!(percent(50, 200), 25);
        assert_eq!(percent(1, 200), 1, "0.5 rounds up");
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(300, 300), 100);
    }

    #[test]
    fn the_same_seed_draws_the_same_paper_and_filters_hold() {
        let pool: Vec<Drawable> = (1..=30)
            .map(|i| Drawable {
                id: i,
                tags: if i % 2 == 0 { s(&["党章"]) } else { s(&["党费"]) },
                difficulty: i % 3 + 1,
            })
            .collect();
        let a = draw(&pool, None, None, 10, 42);
        assert_eq!(a, draw(&pool, None, None, 10, 42));
        assert_ne!(a, draw(&pool, None, None, 10, 43));
        assert_eq!(a.len(), 10);
        assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 10, "no question twice");
        let tagged = draw(&pool, Some("党章"), Some(1), 10, 7);
        assert!(tagged.iter().all(|id| id % 2 == 0 && id % 3 == 0));
        assert_eq!(tagged.len(), eligible(&pool, Some("党章"), Some(1)).len());
        assert_ne!(seed(1, 2, 1, 0), seed(1, 2, 2, 0));
    }

    #[test]
    fn letters_and_indexes() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(3), "D");
        assert_eq!(index_of("c"), Some(2));
        assert_eq!(index_of("AB"), None);
        assert_eq!(index_of("1"), None);
    }
}
