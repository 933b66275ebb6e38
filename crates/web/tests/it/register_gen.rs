//! A generated register of `n` valid applicants as CSV, spread over the named branches: for the import
//! job tests and the import benchmark (`benches/import.rs` includes this file).

/// A GB 11643 check character of the 17 digits.
fn check(body: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// Rows `first..first + n`; row `i`: a distinct ID number (birth day `i / 1000` days after 1990-01-01, sequence `i % 1000`),
/// the sex its digit says, an application at 20 or older, a phone of its own.
pub fn register_csv(first: usize, n: usize, branches: &[&str]) -> String {
    let mut out = String::with_capacity(n * 120);
    out.push_str("姓名,性别,公民身份号码,所在党支部,人员类别,工作岗位,申请入党日期,联系电话\n");
    let start = time::macros::date!(1990 - 01 - 01);
    for i in first..first + n {
        let birth = start + time::Duration::days((i / 1000) as i64);
        let seq = i % 1000;
        let body = format!("330106{:04}{:02}{:02}{seq:03}", birth.year(), birth.month() as u8, birth.day());
        let sex = if seq % 2 == 1 { "男" } else { "女" };
        let branch = branches[i % branches.len()];
        out.push_str(&format!(
            "测试{i},{sex},{body}{},{branch},入党申请人,学生,2012-03-01,139{:08}\n",
            check(&body),
            i
        ));
    }
    out
}
