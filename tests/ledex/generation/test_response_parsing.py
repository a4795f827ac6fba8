from ledex.generation.response_parsing import extract_code, parse_answer


def test_explanation_then_fenced_code():
    answer = parse_answer("Explanation: the loop stops one early.\n\n```python\ndef f(x):\n    return x\n```\n")
    assert answer.explanation == "the loop stops one early."
    assert answer.code == "def f(x):\n    return x"


def test_untagged_and_unclosed_fence():
    answer = parse_answer("It returns None.\n```\ndef f():\n    return 1\n")
    assert answer.explanation == "It returns None."
    assert answer.code == "def f():\n    return 1"


def test_last_parsable_python_block_wins():
    text = "The bug is here:\n```python\nfor i in range(n)\n```\nFixed:\n```python\ndef g():\n    pass\n```\nDone."
    assert parse_answer(text).code == "def g():\n    pass"


def test_unfenced_code_after_prose():
    answer = parse_answer("**Explanation:** off by one.\ndef h(n):\n    return n + 1\n")
    assert answer.explanation == "off by one."
    assert answer.code == "def h(n):\n    return n + 1"


def test_no_code_is_counted_as_unparsed():
    answer = parse_answer("I am not sure what is wrong here.")
    assert not answer.parsed
    assert extract_code("just prose") == "just prose"


def test_other_languages_use_their_own_markers():
    answer = parse_answer("Wrong bound.\n#include <vector>\nint f() { return 1; }", language="cpp")
    assert answer.code.startswith("#include <vector>")
