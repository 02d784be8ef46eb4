//! Reading error codes from the Python SDK's `errorcodes.py`.

use xtask::sdk_codes::parse;

fn codes(text: &str) -> Result<Vec<String>, String> {
    parse("errorcodes.py", text).map(|set| set.into_iter().collect())
}

#[test]
fn reads_the_values_and_never_the_comments() {
    let text = "# -*- coding: utf8 -*-\n# Copyright (c) 2017-2025 Tencent.\n\n\
                # 操作失败。\nFAILEDOPERATION = 'FailedOperation'\r\n\n\
                # 实例ID不存在。\n  INVALIDINSTANCEID_NOTFOUND = \"InvalidInstanceId.NotFound\"  # 注释\n";
    assert_eq!(
        codes(text).unwrap(),
        ["FailedOperation", "InvalidInstanceId.NotFound"]
    );
}

#[test]
fn a_malformed_line_names_the_file_and_line() {
    for (text, expected) in [
        (
            "A = 'A'\nprint('hi')\n",
            "errorcodes.py:2: expected `NAME = 'Code'`, a comment or a blank line",
        ),
        (
            "A = 'A'\n\n名 = 'B'\n",
            "errorcodes.py:3: expected `NAME = 'Code'`, a comment or a blank line; the left of `=` is not a constant name",
        ),
        ("A = 'A\n", "errorcodes.py:1: the string given to `A` is not closed on its line"),
        ("A = 'A' + 'B'\n", "errorcodes.py:1: unexpected text after the string given to `A`"),
        ("A = 42\n", "errorcodes.py:1: expected `NAME = 'Code'`, a comment or a blank line; `A` is not given a quoted string"),
        (
            "A = 'Bad Code'\n",
            "errorcodes.py:1: `A` is `Bad Code`, not an error code like `InvalidInstanceId.NotFound`",
        ),
        ("A = ''\n", "errorcodes.py:1: `A` is ``, not an error code"),
        ("A = 'A'\n# x\nA = 'B'\n", "errorcodes.py:3: `A` is defined twice (first on line 1)"),
        ("# only comments\n\n", "errorcodes.py: no error codes found"),
    ] {
        let err = codes(text).err().unwrap_or_else(|| panic!("accepted {text:?}"));
        assert!(err.starts_with(expected), "{text:?}: {err}");
    }
}
