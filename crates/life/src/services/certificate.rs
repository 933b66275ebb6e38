//! The certificate (证明) a completed proof request yields, as a document: 党员身份证明 (that she is a full or
//! probationary member, since when, of which organization) or 党员组织关系证明 (where her organizational
//! relationship is). Pure: the certificate as issued in, a [`documents::pdf::Document`] out.
//!
//! Items printed: name, gender, standing, the date she joined (入党时间, for a membership proof when recorded)
//! and the organization — no ID number, phone or address (minimum necessary: the holder shows her ID card with
//! it). The QR code carries the public verification address, which shows whether it still stands.

use documents::pdf::{Block, Document, Qr};
use kernel::dates::chinese;

use super::model::RequestKind;
use super::store::CertificateRow;

/// The certificate as a document; `verify` is the verification address its QR code carries, when known.
pub fn document(c: &CertificateRow, verify: Option<&str>) -> Document {
    let kind = RequestKind::parse(&c.kind).unwrap_or(RequestKind::MembershipProof);
    let title = kind.certificate_title();
    let issued = chinese(c.issued_on);
    let text = match kind {
        RequestKind::RelationProof => {
            format!("{}同志，{}，中国共产党{}，其党员组织关系现在{}。", c.person_name, c.gender, c.standing, c.org_name)
        }
        _ => {
            let joined = c.admitted_on.map(|d| format!("于{}加入中国共产党，", chinese(d))).unwrap_or_default();
            format!(
                "{}同志，{}，系中国共产党{}，{}现为{}党员。",
                c.person_name, c.gender, c.standing, joined, c.org_name
            )
        }
    };
    let blocks = vec![
        Block::Title(title.to_string()),
        Block::Right(format!("编号：{}", c.number)),
        Block::Space(12.0),
        Block::Text("兹证明：".into()),
        Block::Paragraph(text),
        Block::Paragraph("特此证明。".into()),
        Block::Space(24.0),
        Block::Signature {
            lines: vec![c.org_name.clone(), issued],
            seal: true,
            qr: verify.map(|v| Qr { payload: v.to_string(), caption: "扫码核验本证明是否有效".into() }),
        },
        Block::Note(
            "本证明须加盖党组织公章方为有效。核验页面只显示证明是否有效、姓名（部分隐去）、开具单位和日期；\
             证明被收回后显示为“已收回”。"
                .into(),
        ),
    ];
    Document {
        title: format!("{title} {}", c.number),
        author: Some(c.org_name.clone()),
        footer: Some(format!("证明编号 {} · 开具于 {}", c.number, kernel::dates::iso(c.issued_on))),
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row(kind: &str) -> CertificateRow {
        CertificateRow {
            id: 1,
            number: "2026-000007-3FA9C1D2".into(),
            request_id: 7,
            person_id: 3,
            kind: kind.into(),
            person_name: "欧阳晓燕".into(),
            gender: "女".into(),
            standing: "正式党员".into(),
            admitted_on: Some(date!(2021 - 06 - 18)),
            org_id: 4,
            org_name: "中共示范大学信息学院学生第一党支部".into(),
            org_path: "/1/2/4/".into(),
            issued_on: date!(2026 - 03 - 02),
            state: "valid".into(),
            revoked_at: None,
            revoke_reason: None,
        }
    }

    fn text(d: &Document) -> String {
        d.blocks
            .iter()
            .map(|b| match b {
                Block::Title(t) | Block::Right(t) | Block::Text(t) | Block::Paragraph(t) | Block::Note(t) => t.clone(),
                Block::Signature { lines, qr, .. } => {
                    format!("{}{}", lines.concat(), qr.as_ref().map_or("", |q| &q.payload))
                }
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn a_membership_proof_says_who_since_when_and_where_with_its_number_and_qr() {
        let d =
            document(&row("membership_proof"), Some("https://dj.example.edu/verify/certificates/2026-000007-3FA9C1D2"));
        let t = text(&d);
        for want in [
            "党员身份证明",
            "编号：2026-000007-3FA9C1D2",
            "欧阳晓燕同志，女，系中国共产党正式党员，于2021年6月18日加入中国共产党，现为中共示范大学信息学院学生第一党支部党员。",
            "2026年3月2日",
            "/verify/certificates/2026-000007-3FA9C1D2",
        ] {
            assert!(t.contains(want), "{want} missing from {t}");
        }
    }

    #[test]
    fn a_relation_proof_names_the_organization_holding_the_relationship() {
        let t = text(&document(&row("relation_proof"), None));
        assert!(t.contains("党员组织关系证明"));
        assert!(t.contains("其党员组织关系现在中共示范大学信息学院学生第一党支部"));
        assert!(!t.contains("verify"), "no QR code without an address");
    }
}
