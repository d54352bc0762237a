//! Reading evidence from the files tools leave behind (R-7g). Issue #9
//! adds JUnit, Cobertura, JMeter and k6; this module starts with LCOV.

use crate::model::ParseError;

/// Line coverage from an LCOV tracefile (`lcov`, `cargo llvm-cov --lcov`,
/// `c8`, `coverage.py lcov`): lines hit over lines found, summed over every
/// file, from the `LH`/`LF` totals, or from `DA` lines for records without them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LcovCoverage {
    /// Lines executed at least once.
    pub hit: u64,
    /// Instrumented lines.
    pub found: u64,
}

impl LcovCoverage {
    /// The ratio 0..=1.
    pub fn ratio(&self) -> f64 {
        if self.found == 0 { 0.0 } else { self.hit as f64 / self.found as f64 }
    }
}

/// Reads an LCOV tracefile.
///
/// # Errors
/// When the text holds no record, a number does not parse, a record does not
/// end with `end_of_record`, or a record says it hit more lines than it has.
pub fn lcov(text: &str) -> Result<LcovCoverage, ParseError> {
    let bad = |line: &str, why: &str| ParseError::new("LCOV line", line, why);
    let number = |line: &str, value: &str| value.trim().parse::<u64>().map_err(|_| bad(line, "expected a count"));
    let (mut hit, mut found, mut records) = (0u64, 0u64, 0u32);
    let mut open = false;
    let (mut lh, mut lf, mut da_hit, mut da_found) = (None, None, 0u64, 0u64);
    if text.contains('\0') {
        return Err(ParseError::new("LCOV file", "", "text, not a binary file (found a NUL byte)"));
    }
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("SF:") {
            if open {
                return Err(bad(rest, "a record started before the last one ended (missing `end_of_record`)"));
            }
            open = true;
            (lh, lf, da_hit, da_found) = (None, None, 0, 0);
        } else if let Some(v) = line.strip_prefix("LH:") {
            lh = Some(number(line, v)?);
        } else if let Some(v) = line.strip_prefix("LF:") {
            lf = Some(number(line, v)?);
        } else if let Some(v) = line.strip_prefix("DA:") {
            let count = v.split(',').nth(1).ok_or_else(|| bad(line, "expected `DA:<line>,<count>`"))?;
            da_found += 1;
            // Some tools write negative or fractional counts for unreachable lines: only > 0 is hit.
            if count.trim().parse::<f64>().map_err(|_| bad(line, "expected a count"))? > 0.0 {
                da_hit += 1;
            }
        } else if line == "end_of_record" {
            if !open {
                return Err(bad(line, "`end_of_record` without `SF:`"));
            }
            let (h, f) = (lh.unwrap_or(da_hit), lf.unwrap_or(da_found));
            if h > f {
                return Err(bad(line, &format!("record hits {h} of {f} lines")));
            }
            let overflow = || bad(line, &format!("line {}: totals that fit in 64 bits (they overflow)", n + 1));
            hit = hit.checked_add(h).ok_or_else(overflow)?;
            found = found.checked_add(f).ok_or_else(overflow)?;
            records = records.saturating_add(1);
            open = false;
        }
    }
    if open {
        return Err(bad("SF:", "the last record has no `end_of_record`"));
    }
    if records == 0 {
        return Err(ParseError::new("LCOV file", text.lines().next().unwrap_or(""), "expected `SF:` records"));
    }
    Ok(LcovCoverage { hit, found })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sums_every_record_r7a() {
        let text = "TN:\nSF:src/a.rs\nDA:1,1\nDA:2,0\nLH:9\nLF:10\nend_of_record\nSF:src/b.rs\nDA:1,3\nDA:2,0\nend_of_record\n";
        let c = lcov(text).expect("parse");
        assert_eq!((c.hit, c.found), (10, 12));
        assert!((c.ratio() - 10.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(lcov("").expect_err("empty").to_string().contains("SF:"));
        assert!(lcov("SF:a\nLH:x\nend_of_record").expect_err("x").to_string().contains("expected a count"));
        assert!(lcov("SF:a\nLH:3\nLF:2\nend_of_record").expect_err("3 of 2").to_string().contains("hits 3 of 2"));
        assert!(lcov("SF:a\nLH:1\nLF:2\n").expect_err("open").to_string().contains("end_of_record"));
    }

    proptest! {
        #[test]
        fn ratio_is_hits_over_lines(records in prop::collection::vec((0u64..500, 0u64..500), 1..20)) {
            let mut text = String::new();
            let (mut hit, mut found) = (0, 0);
            for (i, (a, b)) in records.iter().enumerate() {
                let (h, f) = (*a.min(b), *a.max(b));
                text.push_str(&format!("SF:f{i}\nLH:{h}\nLF:{f}\nend_of_record\n"));
                hit += h;
                found += f;
            }
            let c = lcov(&text).expect("parse");
            prop_assert_eq!((c.hit, c.found), (hit, found));
            prop_assert!((0.0..=1.0).contains(&c.ratio()));
        }

        #[test]
        fn never_panics(text in ".{0,400}") {
            let _ = lcov(&text);
        }
    }
}
