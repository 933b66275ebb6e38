//! Masking for display. What a list, a page or an API response shows unless a role's need is
//! established (reveal-with-reason belongs to the security issue and goes through the audit log).

/// `330106********123X`: region code and the last four characters stay, the birth date goes.
pub fn id_number(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// `138****8000`.
pub fn phone(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_only_what_identifies_nothing() {
        assert_eq!(super::id_number("33010619990101123X"), "330106********123X");
        assert_eq!(super::phone("13800138000"), "138****8000");
        assert_eq!(super::phone("123"), "***");
    }
}
