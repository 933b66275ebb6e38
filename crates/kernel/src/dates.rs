//! Dates as the regulations count them. China has one time zone (UTC+8, no daylight saving), so
//! "today" is the calendar date in UTC+8, whatever the server's zone is.

use time::{Date, Month, UtcOffset};

/// UTC+8, the offset of Beijing time.
pub const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today's date in Beijing time.
pub fn today() -> Date {
    crate::clock::now_utc().to_offset(BEIJING).date()
}

/// The instant a Beijing day begins (00:00 UTC+8), in UTC. Stored instants are UTC, and SQLite compares them
/// as text: a bound written with +08:00 would sort by its Beijing date and miss the day's first eight hours.
pub fn beijing_midnight(d: Date) -> time::OffsetDateTime {
    d.midnight().assume_offset(BEIJING).to_offset(UtcOffset::UTC)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_iso(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), fmt).ok()
}

/// Formats as `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Formats as `2026年11月23日`, the form Chinese documents use.
pub fn chinese(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// `d` plus `n` calendar months; a day that does not exist in the target month becomes that month's last
/// day (convention C1 of domain.md, after 民法典 arts. 201–202).
pub fn add_months(d: Date, n: i32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + n;
    let year = total.div_euclid(12);
    let month_index = total.rem_euclid(12) as u8 + 1;
    let month = Month::try_from(month_index).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// Age in full years on `on` (convention C4: the birthday of 29 February falls on 28 February in
/// common years).
pub fn age_on(birth: Date, on: Date) -> i32 {
    let years = on.year() - birth.year();
    let birthday = add_months(birth, 12 * years);
    if on < birthday { years - 1 } else { years }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_beijing_day_begins_at_16_utc_the_day_before_written_in_utc() {
        let start = beijing_midnight(date!(2026 - 11 - 26));
        assert_eq!(start.offset(), UtcOffset::UTC, "stored instants are UTC, and SQLite compares text");
        assert_eq!(start, time::macros::datetime!(2026-11-25 16:00 UTC));
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 03 - 10), 1), date!(2025 - 04 - 10));
        assert_eq!(add_months(date!(2025 - 11 - 30), 3), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2025 - 01 - 15), -1), date!(2024 - 12 - 15));
    }

    #[test]
    fn age_counts_full_years() {
        assert_eq!(age_on(date!(2007 - 09 - 15), date!(2025 - 09 - 15)), 18);
        assert_eq!(age_on(date!(2007 - 09 - 16), date!(2025 - 09 - 15)), 17);
        assert_eq!(age_on(date!(2004 - 02 - 29), date!(2022 - 02 - 28)), 18);
    }

    #[test]
    fn iso_round_trips() {
        let d = date!(2026 - 03 - 05);
        assert_eq!(parse_iso(&iso(d)), Some(d));
        assert_eq!(parse_iso("2026-13-01"), None);
        assert_eq!(chinese(d), "2026年3月5日");
    }
}
