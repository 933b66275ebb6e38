//! Question banks and exams (题库与考试): questions of four kinds with explanations, tags and difficulty;
//! banks published to a subtree like materials; exams and practices drawn at random from a bank by tag and
//! difficulty (seeded per attempt), with a time limit the server enforces, a number of attempts and a pass
//! mark; automatic grading ([`rules`]); per-question statistics for the authors; results for the member and
//! for those managing learning around her.

pub mod model;
pub mod rules;
pub mod service;
pub mod store;
