//! Learning content for the demo university (`dangjian demo`): a few materials published by the university
//! (two about 党费, so a search for the two-character word finds them), a question bank with a question of
//! every kind, a practice drawn from it and an exam; and a document published as a PDF (rendered here with the
//! Noto CJK fonts of the system — left out, like the letters, when `fonts-noto-cjk` is not installed). Deterministic; written through the service (audited
//! as the command line, `system`). Nothing is added when the database already holds a material.

use kernel::{Db, on_db};
use platform::{Ctx, Platform};

use crate::exams::model::{BankInput, ExamInput, QuestionInput};
use crate::model::{MaterialInput, Upload};
use crate::service::{Learning, Result};

/// The demo's PDF handout: two pages of headings and paragraphs. None without the system's CJK fonts.
fn handout_pdf() -> Option<Vec<u8>> {
    use documents::pdf::{Block, Document, Fonts, render};
    let fonts = Fonts::load(None).ok()?;
    let mut blocks = vec![
        Block::Title("《中国共产党党员教育管理工作条例》学习辅导".into()),
        Block::Centered("党委组织部 编".into()),
        Block::Space(12.0),
    ];
    for (heading, paragraphs) in HANDOUT {
        blocks.push(Block::Heading((*heading).into()));
        blocks.extend(paragraphs.iter().map(|p| Block::Paragraph((*p).into())));
    }
    let doc = Document {
        title: "党员教育管理工作条例学习辅导".into(),
        author: Some("党委组织部".into()),
        footer: Some("供学习使用".into()),
        blocks,
    };
    render(&doc, &fonts).ok()
}

const HANDOUT: &[(&str, &[&str])] = &[
    (
        "一、为什么要加强党员教育管理",
        &[
            "党员教育管理是党的建设的基础性经常性工作。条例对新形势下党员教育管理工作作出全面规范，是做好这项工作的基本遵循。",
            "加强党员教育管理，目的是使党员牢固树立理想信念，增强“四个意识”，坚定“四个自信”，做到“两个维护”，在工作、学习和社会生活中起先锋模范作用。",
        ],
    ),
    (
        "二、教育的主要内容",
        &[
            "党员教育的基本任务包括：政治理论教育、政治教育和政治训练、党章党规党纪教育、党的宗旨教育、革命传统教育、知识技能教育。",
            "党支部应当结合实际，有计划地组织党员学习，每年至少开展一次集中培训，党员每年集中学习培训时间一般不少于32学时。",
        ],
    ),
    (
        "三、教育的基本方式",
        &[
            "坚持“三会一课”制度，落实主题党日，开展组织生活会和民主评议党员。",
            "运用网络平台开展学习，注重实效，防止形式主义：学习时长按实际阅读计算，不以打卡次数论成效。",
        ],
    ),
    (
        "四、党员管理",
        &[
            "党员应当按时参加党的组织生活，按月交纳党费，按规定向党组织汇报思想、工作和学习情况。",
            "党组织应当关心爱护党员，帮助解决思想、工作和生活中的实际困难。",
        ],
    ),
];

const MATERIALS: &[(&str, &str, &str, &[&str])] = &[
    (
        "党费交纳的基本规定",
        "discipline",
        "交纳党费是党员的义务。党员应当按月交纳党费，预备党员也要交纳党费。\n在职党员以每月工资收入中相对固定的、经常性的部分为计算基数，按规定比例交纳；学生党员每月交纳党费0.2元。\n党员因故不能按时交纳党费的，应当向党支部说明情况。",
        &["党费", "党章"],
    ),
    (
        "党费的计算与使用",
        "practice",
        "党费的计算基数、交纳比例、收缴程序和使用管理，按照中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》执行。\n党支部应当定期向党员公布党费收缴情况。",
        &["党费"],
    ),
    (
        "学习《中国共产党章程》总纲",
        "theory",
        "中国共产党是中国工人阶级的先锋队，同时是中国人民和中华民族的先锋队。\n党的最高理想和最终目标是实现共产主义。",
        &["党章"],
    ),
    (
        "三会一课制度要点",
        "practice",
        "三会一课是指定期召开支部党员大会、支部委员会、党小组会，按时上好党课。\n支部党员大会一般每季度召开1次，支部委员会一般每月召开1次，党小组会一般每月召开1次，党课每季度至少1次。",
        &["三会一课", "组织生活"],
    ),
    (
        "发展党员工作流程",
        "practice",
        "发展党员工作应当贯彻党的基本理论、基本路线、基本方略，坚持把政治标准放在首位。\n从入党申请到转为正式党员，一般经过入党申请、入党积极分子的确定和培养教育、发展对象的确定和考察、预备党员的接收、预备党员的教育考察和转正五个阶段。",
        &["发展党员"],
    ),
    (
        "党史学习：中国共产党的创建",
        "history",
        "1921年7月，中国共产党第一次全国代表大会召开，宣告了中国共产党的正式成立。",
        &["党史"],
    ),
];

fn q(
    kind: &str,
    stem: &str,
    options: &[&str],
    correct: &[&str],
    explanation: &str,
    tag: &str,
    d: i64,
) -> QuestionInput {
    QuestionInput {
        kind: Some(kind.into()),
        stem: Some(stem.into()),
        options: Some(options.iter().map(|s| s.to_string()).collect()),
        correct: Some(correct.iter().map(|s| s.to_string()).collect()),
        explanation: Some(explanation.into()),
        tags: Some(vec![tag.into()]),
        difficulty: Some(d),
    }
}

async fn any_material(db: &Db) -> Result<bool> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM materials)";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await).map_err(kernel::DbError::from)?)
}

/// Adds the demo learning content; returns how many materials (0 when there already were some).
pub async fn generate(p: &Platform) -> Result<u64> {
    if any_material(&p.db).await? {
        return Ok(0);
    }
    let Some(root) = platform::store::org_children(&p.db, None).await?.into_iter().next() else { return Ok(0) };
    let actor = platform::service::system_actor();
    let ctx = Ctx { request_id: "demo".into(), ip: String::new(), user_agent: "dangjian demo".into() };
    let learning = Learning::new(p);
    for (title, category, body, tags) in MATERIALS {
        let input = MaterialInput {
            title: Some((*title).into()),
            body: Some((*body).into()),
            kind: Some("article".into()),
            category: Some((*category).into()),
            tags: Some(tags.iter().map(|t| t.to_string()).collect()),
            org_id: Some(root.id),
            ..MaterialInput::default()
        };
        learning.create_material(&ctx, &actor, &input, None).await?;
    }
    let mut published = MATERIALS.len() as u64;
    if let Some(pdf) = handout_pdf() {
        let input = MaterialInput {
            title: Some("《中国共产党党员教育管理工作条例》学习辅导".into()),
            body: Some("条例要点辅导材料（PDF），供党支部组织学习和党员自学。".into()),
            kind: Some("document".into()),
            category: Some("discipline".into()),
            tags: Some(vec!["党员教育".into(), "党章".into()]),
            minutes: Some(15),
            org_id: Some(root.id),
            ..MaterialInput::default()
        };
        let file = Upload { name: "党员教育管理工作条例学习辅导.pdf", bytes: &pdf };
        learning.create_material(&ctx, &actor, &input, Some(file)).await?;
        published += 1;
    }
    let bank = BankInput {
        title: Some("党章党规应知应会题库".into()),
        description: Some("供各支部组织学习与测试".into()),
        org_id: Some(root.id),
        stages: None,
    };
    let bank = learning.create_bank(&ctx, &actor, &bank).await?;
    let questions = [
        q(
            "single",
            "党员应当按月交纳（ ）。",
            &["党费", "会费", "团费", "工会费"],
            &["A"],
            "《中国共产党章程》第八条：每个党员……都必须按照规定交纳党费。",
            "党费",
            1,
        ),
        q(
            "single",
            "学生党员每月交纳党费（ ）元。",
            &["0.1", "0.2", "0.5", "1"],
            &["B"],
            "学生党员每月交纳党费0.2元。",
            "党费",
            1,
        ),
        q("judge", "预备党员不需要交纳党费。", &[], &["错误"], "预备党员也要按规定交纳党费。", "党费", 1),
        q(
            "multiple",
            "“三会一课”中的“三会”包括（ ）。",
            &["支部党员大会", "支部委员会", "党小组会", "职工代表大会"],
            &["A", "B", "C"],
            "三会是支部党员大会、支部委员会和党小组会。",
            "三会一课",
            2,
        ),
        q(
            "single",
            "党课每（ ）至少1次。",
            &["月", "季度", "半年", "年"],
            &["B"],
            "《中国共产党支部工作条例（试行）》：党课每季度至少1次。",
            "三会一课",
            2,
        ),
        q("fill", "党的最高理想和最终目标是实现（ ）。", &[], &["共产主义"], "《中国共产党章程》总纲。", "党章", 1),
        q(
            "judge",
            "发展党员应当坚持把政治标准放在首位。",
            &[],
            &["正确"],
            "《中国共产党发展党员工作细则》第三条。",
            "发展党员",
            2,
        ),
        q(
            "multiple",
            "发展党员要经过的阶段包括（ ）。",
            &["入党申请", "入党积极分子的确定和培养教育", "发展对象的确定和考察", "自动转正"],
            &["A", "B", "C"],
            "预备党员转正须经支部大会讨论，不会自动转正。",
            "发展党员",
            3,
        ),
        q("fill", "中国共产党第一次全国代表大会于（ ）年召开。", &[], &["1921"], "1921年7月召开。", "党史", 1),
        q(
            "single",
            "支部委员会一般每（ ）召开1次。",
            &["周", "月", "季度", "年"],
            &["B"],
            "支委会一般每月召开1次。",
            "三会一课",
            2,
        ),
    ];
    for question in &questions {
        learning.add_question(&ctx, &actor, bank.id, question).await?;
    }
    let practice = ExamInput {
        bank_id: Some(bank.id),
        title: Some("党费知识练习".into()),
        mode: Some("practice".into()),
        tag: Some("党费".into()),
        question_count: Some(3),
        org_id: Some(root.id),
        ..ExamInput::default()
    };
    learning.create_exam(&ctx, &actor, &practice).await?;
    let exam = ExamInput {
        bank_id: Some(bank.id),
        title: Some("党章党规应知应会测试".into()),
        question_count: Some(8),
        time_limit_minutes: Some(20),
        max_attempts: Some(2),
        pass_percent: Some(60),
        org_id: Some(root.id),
        ..ExamInput::default()
    };
    learning.create_exam(&ctx, &actor, &exam).await?;
    Ok(published)
}
