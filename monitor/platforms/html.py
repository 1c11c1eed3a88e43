"""Post bodies sent as HTML (Mastodon statuses, feed entries): the text a reader sees, and the
links it shares."""

from html.parser import HTMLParser


class _Text(HTMLParser):
    """Visible text, with <p> and <br> as line breaks; links keep their full text (Mastodon
    hides parts of long links in invisible spans, which still belong to the link)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


class _Links(HTMLParser):
    """Anchors that are neither a hashtag nor a mention link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        href = values.get("href")
        if tag == "a" and href and "mention" not in classes and "hashtag" not in classes:
            self.hrefs.append(href)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    parser.close()
    return list(dict.fromkeys(parser.hrefs))
