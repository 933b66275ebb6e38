//! The introduction letter (中国共产党党员组织关系介绍信) as a document: the three parts of the national form
//! (组通字〔2006〕45号 filling instructions) — the stub kept by the issuer, the letter the member carries, and the
//! receipt (回执) the receiving organization sends back — on one A4 page, separated by cut lines. Pure: the
//! letter's items as they were issued in, a [`documents::pdf::Document`] out.
//!
//! Items printed, as the form has them: name, gender, age, ethnicity, the ID number (masked 6 + 4 — the
//! receiving side checks it against the member's ID card; this project's convention, domain.md SEC), party
//! standing (正式党员 / 预备党员), the organization it leaves and the one it goes to, the month the dues are paid
//! up to, the validity in days (TRF-02) and the letter's number. The member's phone is left out (minimum
//! necessary); the issuer's phone is printed when recorded.

use documents::pdf::{Block, Document, Qr};
use kernel::dates::chinese;

use crate::rules::YearMonth;
use crate::store::transfer::LetterRow;

/// "2025年6月" for "2025-06".
fn month_cn(m: Option<&str>) -> String {
    match m.and_then(YearMonth::parse) {
        Some(ym) => format!("{}年{}月", ym.year(), ym.month()),
        None => "____年__月".into(),
    }
}

fn who(l: &LetterRow) -> String {
    let ethnicity = l.ethnicity.as_deref().filter(|e| !e.is_empty()).unwrap_or("____");
    format!("{}同志（{}，{}岁，{}）", l.person_name, l.gender, l.age, ethnicity)
}

/// The letter as a document; `verify` is what its QR code carries (the verification address), when known.
pub fn document(l: &LetterRow, verify: Option<&str>) -> Document {
    let no = format!("第 {} 号", l.number);
    let issued = chinese(l.issued_on);
    let until = chinese(l.valid_until);
    let paid = month_cn(l.fee_paid_through.as_deref());
    let reissue = l.reissue_reason.as_ref().map(|_| "（补开）").unwrap_or("");
    let mut blocks = vec![
        Block::Title(format!("中国共产党党员组织关系介绍信（存根）{reissue}")),
        Block::Right(no.clone()),
        Block::Fields {
            columns: 2,
            items: vec![
                ("姓名".into(), l.person_name.clone()),
                ("性别".into(), l.gender.clone()),
                ("年龄".into(), format!("{}岁", l.age)),
                ("民族".into(), l.ethnicity.clone().unwrap_or_default()),
                ("身份证号码".into(), l.id_number_masked.clone()),
                ("党员身份".into(), l.standing.clone()),
                ("转出单位".into(), l.from_org_name.clone()),
                ("转往单位".into(), l.to_org_name.clone()),
                ("党费交至".into(), paid.clone()),
                ("有效期".into(), format!("{}天（至{}）", l.valid_days, until)),
            ],
        },
        Block::Right(issued.clone()),
        Block::CutLine("存根由开出介绍信的党组织留存　沿虚线裁开".into()),
        Block::Title(format!("中国共产党党员组织关系介绍信{reissue}")),
        Block::Right(no.clone()),
        Block::Text(format!("{}：", l.to_org_name)),
        Block::Paragraph(format!(
            "{}，身份证号码{}，系中共{}，由{}转到{}，请接转组织关系。该同志党费已交到{}。",
            who(l),
            l.id_number_masked,
            l.standing,
            l.from_org_name,
            l.to_org_name,
            paid
        )),
        Block::Paragraph(format!("（有效期{}天，至{}）", l.valid_days, until)),
        Block::Signature {
            lines: vec![l.issuer_name.clone(), issued.clone()],
            seal: true,
            qr: verify.map(|v| Qr {
                payload: v.to_string(), caption: "扫码核验本介绍信的编号、有效期与状态".into()
            }),
        },
    ];
    if let Some(phone) = l.issuer_phone.as_deref().filter(|p| !p.is_empty()) {
        blocks.push(Block::Note(format!("党员原所在基层党委联系电话：{phone}")));
    }
    blocks.extend([
        Block::CutLine("回执由接收党组织填写盖章后寄回　沿虚线裁开".into()),
        Block::Title("中国共产党党员组织关系介绍信回执".into()),
        Block::Right(no),
        Block::Text(format!("{}：", l.issuer_name)),
        Block::Paragraph(format!("{}同志的党员组织关系已转达我处，特此回复。", l.person_name)),
        Block::Signature {
            lines: vec!["接收党组织（盖章）".into(), "　　　年　　月　　日".into()],
            seal: false,
            qr: None,
        },
    ]);
    Document {
        title: format!("中国共产党党员组织关系介绍信 {}", l.number),
        author: Some(l.issuer_name.clone()),
        footer: Some(format!("介绍信编号 {} · 开具于 {}", l.number, kernel::dates::iso(l.issued_on))),
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn row() -> LetterRow {
        LetterRow {
            id: 1,
            transfer_id: 1,
            direction: "out".into(),
            number: "2025-0001".into(),
            issued_on: date!(2025 - 07 - 01),
            valid_days: 30,
            valid_until: date!(2025 - 07 - 31),
            state: "current".into(),
            replaces_id: None,
            reissue_reason: None,
            presented_on: None,
            person_name: "欧阳晓燕".into(),
            gender: "女".into(),
            age: 24,
            ethnicity: Some("汉族".into()),
            id_number_masked: "330106********1234".into(),
            standing: "正式党员".into(),
            from_org_name: "中共示范大学信息学院学生第一党支部".into(),
            to_org_name: "中共杭州市西湖区委员会组织部".into(),
            issuer_name: "中共示范大学信息学院委员会".into(),
            issuer_phone: Some("0571-88888888".into()),
            fee_paid_through: Some("2025-06".into()),
        }
    }

    fn all_text(d: &Document) -> String {
        d.blocks
            .iter()
            .map(|b| match b {
                Block::Title(t)
                | Block::Right(t)
                | Block::Text(t)
                | Block::Paragraph(t)
                | Block::Note(t)
                | Block::CutLine(t) => t.clone(),
                Block::Fields { items, .. } => items.iter().map(|(a, b)| format!("{a}{b}")).collect(),
                Block::Signature { lines, .. } => lines.concat(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn the_letter_carries_the_items_of_the_national_form() {
        let d = document(&row(), Some("https://dj.example.edu/verify/letters/1-abc"));
        let t = all_text(&d);
        for item in [
            "欧阳晓燕同志（女，24岁，汉族）",
            "330106********1234",
            "系中共正式党员",
            "由中共示范大学信息学院学生第一党支部转到中共杭州市西湖区委员会组织部",
            "党费已交到2025年6月",
            "有效期30天，至2025年7月31日",
            "第 2025-0001 号",
            "2025年7月1日",
            "回执",
            "0571-88888888",
        ] {
            assert!(t.contains(item), "{item} missing: {t}");
        }
        assert!(d.blocks.iter().any(|b| matches!(b, Block::Signature { seal: true, qr: Some(_), .. })));
        let reissued = document(&LetterRow { reissue_reason: Some("过期".into()), ..row() }, None);
        assert!(all_text(&reissued).contains("（补开）"));
    }
}
