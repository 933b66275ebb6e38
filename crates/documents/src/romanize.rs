//! Chinese characters in Latin letters (Hanyu Pinyin without tones), for the password rule: a password
//! must not be the account holder's name typed in pinyin (security.md AT-1, context words). Built on the
//! `pinyin` crate's table (the Unihan kHanyuPinyin / kMandarin readings).

use pinyin::ToPinyinMulti;

/// At most this many spellings of one text (a name whose characters each have several readings).
const MAX_SPELLINGS: usize = 32;

/// Every toneless pinyin spelling of `text` (each character in each of its readings, in order; other
/// characters kept as they are, lower-cased), at most 32. `"曾红"` → `["zenghong", "cenghong"]`.
pub fn spellings(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '·' && *c != '•') {
        let readings: Vec<&'static str> = match c.to_pinyin_multi() {
            Some(multi) => {
                let mut r: Vec<&'static str> = multi.into_iter().map(|p| p.plain()).collect();
                r.dedup();
                r
            }
            None => {
                out.iter_mut().for_each(|s| s.extend(c.to_lowercase()));
                continue;
            }
        };
        let mut next = Vec::new();
        for prefix in &out {
            for r in &readings {
                if next.len() < MAX_SPELLINGS && !next.iter().any(|n: &String| n == &format!("{prefix}{r}")) {
                    next.push(format!("{prefix}{r}"));
                }
            }
        }
        out = next;
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Every run of pinyin initials of `text` (the first letter of each character's readings; other characters
/// kept, lower-cased), at most 32: how a name is abbreviated in Latin letters. `"浙江"` → `["zj"]`.
pub fn initials(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let mut firsts: Vec<char> = match c.to_pinyin_multi() {
            Some(multi) => multi.into_iter().filter_map(|p| p.plain().chars().next()).collect(),
            None => c.to_lowercase().collect(),
        };
        firsts.sort_unstable();
        firsts.dedup();
        let mut next: Vec<String> = Vec::new();
        for prefix in &out {
            for f in &firsts {
                if next.len() < MAX_SPELLINGS {
                    next.push(format!("{prefix}{f}"));
                }
            }
        }
        out = next;
    }
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::{initials, spellings};

    #[test]
    fn initials_abbreviate_names() {
        assert!(initials("浙江大学").contains(&"zjdx".to_string()), "{:?}", initials("浙江大学"));
        assert_eq!(initials("东湖"), vec!["dh"]);
        assert!(initials("").is_empty());
    }

    #[test]
    fn names_in_pinyin_with_their_other_readings() {
        assert_eq!(spellings("张三"), vec!["zhangsan"]);
        let zeng = spellings("曾红");
        assert!(zeng.contains(&"zenghong".to_string()) && zeng.contains(&"cenghong".to_string()), "{zeng:?}");
        assert!(spellings("单雪").contains(&"shanxue".to_string()), "单 as a surname");
        assert!(spellings("Li 红").contains(&"lihong".to_string()), "Latin letters kept, lower-cased");
        assert!(spellings("").is_empty());
        assert!(spellings("长乐行").len() <= 32);
    }
}
