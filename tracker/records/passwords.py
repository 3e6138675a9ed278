"""What a staff password must be: long enough, not a common one, not the account's name.

The list below is small on purpose: the passwords guessed first, in English and as
Chinese users type them (keyboard rows, dates, ``woaini``, pinyin names). Length does
most of the work: twelve characters or more.
"""

from __future__ import annotations

import unicodedata

MIN_LENGTH = 12

COMMON = frozenset("""
123456789012 1234567890123 12345678901234 123456789123 1234567890qwe 123456123456 12345612345678
000000000000 111111111111 888888888888 666666666666 123123123123 112233445566 147258369000
qwertyuiopas qwertyuiop12 qwertyuiop123 qwerty123456 1qaz2wsx3edc 1q2w3e4r5t6y 1qaz2wsx3edc4rfv
qazwsxedcrfv asdfghjkl123 zxcvbnm12345 1234qwerasdf qwer1234asdf abc123456789 abcd12345678
a123456789012 aa1234567890 abcdefghijkl abcdef123456 password1234 password123! passw0rd1234
p@ssw0rd1234 p@ssword1234 iloveyou1234 letmein12345 welcome12345 welcome@1234 admin1234567
administrator admin@123456 adminadmin12 root12345678 changeme1234 qwertyqwerty
woaini1314520 woaini520131 woaini123456 5201314520131 520131452013 1314520520131 woainima1234
zhangwei1234 wangwei12345 wanglei12345 liuyang12345 lijing123456 zhangjie1234 woshishui123
shandong1234 shandong2025 jinan1234567 qingdao12345 dashuju12345 dsj123456789 jiebang12345
jiebang2025! jiebangguashuai 19491001abcd 20250101abcd 2025jiebang! abc@12345678 a1b2c3d4e5f6
""".split())


def normal(text: str) -> str:
    """How names and passwords are compared with each other: NFKC, case folded, stripped."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def problem(name: str, password: str) -> str | None:
    """Why *password* may not be *name*'s (one line), or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"the password must be at least {MIN_LENGTH} characters (密码至少 {MIN_LENGTH} 位)"
    if password != password.strip():
        return "the password begins or ends with a space (密码首尾不能有空格)"
    folded = normal(password)
    if folded in COMMON or len(set(folded)) < 4:
        return "the password is too common or too simple (密码过于常见或简单)"
    user = normal(name)
    if len(user) >= 3 and user in folded:
        return "the password must not contain the user name (密码不能包含用户名)"
    return None
