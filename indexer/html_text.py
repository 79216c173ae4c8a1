"""Turn the one-line article HTML of the fetched feeds into clean text: a lead and body paragraphs.

The feeds flatten each page to a single line and squash whitespace between attributes, so a few
steps run on the raw string before parsing (cutting footers, repairing squashed tags, marking
block boundaries with "\\n"); the rest works on the lexbor DOM.

Decisions:

* Paragraphs are block elements and ``<br>``-separated lines; each becomes one line of ``body``.
* Lead: RFI's top-level ``<p><strong>…</strong></p>`` placed before the body div, FT's
  ``div.story-lead``. Other outlets get ``""``: BBC's intro, DW's teaser and the captions stay in
  the body, because the feed does not mark them as a lead the same way.
* Image captions are kept as their own paragraph when they hold text (VOA/DW/NYT ``<small>``,
  Reuters/BBC/RFI ``figcaption``): they describe the story and are searchable. Their furniture
  (photo credits, off-screen "Image caption" labels) is removed.
* Removed as page furniture: scripts/styles/embeds, the author/date ``<div>`` at the top, share
  block, related-articles ``<aside>``, paragraphs and lists that only link to other articles
  (optionally behind a "相关报道"-style label), DW's "相关图集" gallery, promo divs, ads, feedx
  and CDT footers, the AFP copyright line, DW sign-offs (and anything after them), DW
  disclaimers and NYT newsletter plugs, separator lines.
* Furniture of the archiver's 2022-2025 layouts, wherever an outlet adds it: ``<time>`` lines
  and relative times ("26 分钟前"), image credits ("图像来源，EPA"), bylines given as lists,
  promotions behind a "Skip … and continue reading" link (up to the link's target), staff
  credits (记者：… 责编：… 网编：…), author biographies ("…点击查看更多关于他的信息。"),
  translator and other one-role credits closing the body (翻译：…), feedx links under any of
  its domains, and CDT's "CDT 档案卡" card (its 标题/作者/来源 lines are metadata).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from selectolax.lexbor import LexborHTMLParser

# lexbor's tree builder scans the open-element stack for many start tags, so parse time grows
# with depth × tag count (100,000 nested <div>s take ~20 s, nested <ul><li> far longer), and
# reopening unclosed formatting elements multiplies nodes. Above these limits the HTML is
# degenerate: its tags are stripped by regex instead of parsed.
MAX_DEPTH = 256
MAX_DEPTH_COST = 5_000_000
# With at most this many tags the worst case is ~_CHEAP_TAG_COUNT² steps (milliseconds): skip counting.
_CHEAP_TAG_COUNT = 2_000

_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
# Closed implicitly by their next sibling, so an unclosed one does not nest.
_OPTIONAL_END = frozenset(
    "p li dt dd option optgroup tr td th tbody thead tfoot colgroup caption rb rt rp rtc".split()
)
# Tags that can nest: void and optional-end elements are skipped by the lookahead, so the
# Python loop only sees containers. [^<>] rather than [^>] keeps every match attempt short on
# inputs full of unterminated tags.
_CONTAINER_TAG = re.compile(
    r"<(/?)(?!(?:%s)[\s/>])([A-Za-z][A-Za-z0-9]*)[^<>]*?(/?)>" % "|".join(_VOID | _OPTIONAL_END),
    re.I,
)

# "<asidedata-org-name" → "<aside data-org-name": the feed deleted the space after the tag name.
_SQUASHED = re.compile(
    r"<(aside|div|span|section|nav|figure|header|footer|ul|ol|li|p|a)"
    r"(?=(?:data|role|class|id|aria|style|href)[-=])",
    re.I,
)
# Matches only the "<" of a block tag: a literal prefix and a literal replacement keep sub() fast.
_BLOCK = re.compile(
    r"<(?=/?(?:address|article|aside|blockquote|br|dd|details|div|dl|dt|figcaption|figure|footer"
    r"|h[1-6]|header|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr"
    r"|ul)[\s/>])",
    re.I,
)
# Author/date line the feed puts first: RFI "<div>DD/MM/YYYY - HH:MM</div>", others "<div><i>…</i></div>".
_META_DIV = re.compile(
    r"\s*<div>\s*(?:<i>.*?</i>|\d{1,2}/\d{1,2}/\d{4}\s*-\s*\d{1,2}:\d{2})\s*</div>", re.S | re.I
)
# Footers that always end the item: everything from them on is dropped.
_FOOTERS = (
    # feedx, by its text or by a link to any of its domains (feedx.net, .xyz, .best, …)
    re.compile(r"<hr[^<>]*>\s*<div>\s*(?:获取更多RSS|<a\s[^<>]*href=\"?https?://(?:www\.)?feedx\.)", re.I),
    re.compile(r"<hr[^<>]*>\s*<p>\s*<small>\s*(?:&copy;|©)"),  # CDT permalink/tags/Better Feed
)
_FURNITURE = ", ".join(
    [
        # not text, or not article text
        "head, script, style, noscript, template, title, textarea, select, button, form, input",
        "iframe, object, embed, video, audio, svg, math, canvas, map, plaintext, xmp, noembed",
        "noframes, aside, nav",
        # RFI
        "[data-selfpromo-newsletter], [data-selfpromo-app], .o-self-promo, .m-interstitial",
        ".t-copyright, [data-root-share], .m-figure__caption__credits",
        # BBC
        ".off-screen, .story-image-copyright, .bbccom_slot, .embed-youtube-warning",
        ".player-with-placeholder__caption",
        # CDT: embedded card of another CDT post
        ".wp-embedded-content",
        # FT, Reuters
        ".o-ads, .StandardArticleBody_trustBadgeContainer, .Image_expand-button",
        # feedx's own links, wherever they stand
        "a[href*='//feedx.'], a[href*='.feedx.']",
    ]
)
# "Skip podcast promotion and continue reading": everything from the link to its target
# (BBC's <… id="end-of-podcasts">, with its short "End of podcasts" text) is a promotion.
_SKIP_LINK = re.compile(r"<a\s[^<>]*href=[\"']?#([\w-]+)[^<>]*>\s*(?:Skip|跳过|跳過)[^<]*</a>", re.I)
_RELATIVE_TIME = (r"(?:\d{1,3}|[一二两兩三四五六七八九十几幾]{1,3})\s*"
                  r"(?:秒钟?|秒鐘|分钟|分鐘|小时|小時|个?钟头|個?鐘頭|天|日|周|週|星期|个?月|個?月|年)前|刚刚|剛剛")
# A relative time; a <time> line with a dateTime attribute is furniture whatever it says, one
# without keeps its text unless relative (BBC's timelines label their items with <time>).
_TIME_ONLY = re.compile(r"^(?:%s)$" % _RELATIVE_TIME)
# A list whose items are a byline ("作者, 张三", "Role, BBC中文", "报道地点, 台北").
_BYLINE_ITEM = re.compile(
    r"^(?:作者|記者|记者|撰文|撰稿|Author|By|Role|职务|職務|职位|職位|报道地点|報道地點|Reporting from)\s*[,，:：]", re.I)
# CDT's card: a spoiler titled "CDT 档案卡" whose content is the post's metadata.
_CARD_TITLE = re.compile(r"^CDT\s*(?:档案卡|檔案卡)$")
_CARD_FIELD = re.compile(r"^(?:标题|標題|作者|来源|來源|发表日期|發表日期|主题归类|主題歸類|CDS收藏|版权说明|版權說明|原文)[：:]")
# Roles of staff credits. A line of them that names an editor (责编, 网编) is a credit line
# wherever it stands; a single role ("翻译：Koney Bai") only where it closes the body, since
# "记者：…" also opens the questions of an interview.
_ROLE = (r"记者|記者|责编|責編|责任编辑|責任編輯|编辑|編輯|网编|網編|撰稿|撰文|采访|採訪|编译|編譯|"
         r"翻译|翻譯|译者|譯者|摄影|攝影|制作|製作|校对|校對")
_EDITOR_CREDIT = re.compile(r"^[（(]?[^。！？!?]{0,40}?(?:责编|責編|责任编辑|責任編輯|网编|網編)\s*[：:][^。！？!?]{0,80}$")
_CLOSING_CREDIT = re.compile(r"^[（(]?(?:%s)\s*[：:][^。！？!?：:]{1,40}[）)]?$" % _ROLE)
# Whole lines that are furniture wherever they turn up (fallbacks for the structural removals).
_FURNITURE_LINE = re.compile(
    r"^(?:分享\s*[:：]?|获取更多RSS.*|Feed enhanced by.*|©\s*\d{4}\s*AFP|相关阅读\s*[:：]?"
    r"|（欢迎点击此处订阅.*|感谢阅读今天的简报.*|点击查看本文英文版。?"
    r"|德国之声致力于为您提供客观中立的新闻报[道导].*|摘[编译]自其[他它]媒体.{0,6}不代表德国之声.*"
    r"|[=\-—–_*~]{3,}"
    # newer layouts: relative times, image credits, promotion skip links and their ends,
    # related-link labels, feedx addresses, BBC's copyright line, author biographies
    r"|(?:%s)|[图圖][像片][来來]源[，,:：].{0,60}|Image (?:source|caption)[,，:：].{0,60}"
    r"|(?:Skip|跳过|跳過).{0,60}(?:continue reading|继续阅读|繼續閱讀)|End of (?:podcasts?|newsletter)s?"
    r"|(?:相关|相關)(?:报道|報導|阅读|閱讀|新闻|新聞|内容|內容|话题|話題|文章)\s*[:：]?|(?:延伸|推荐|推薦)(?:阅读|閱讀)\s*[:：]?"
    r"|(?:https?://)?(?:www\.)?feedx\.[a-z]+/?|©\s*\d{4}\s*BBC\b.*"
    r"|.*(?:点击|點擊)查看更多(?:关于|關於).{1,8}的(?:信息|資訊)。?)$" % _RELATIVE_TIME
)
# Text around the links of a paragraph that only points to other articles.
_LINK_LABEL = re.compile(
    r"^(?:相关报道|相关阅读|相关新闻|相关内容|相關報導|相關閱讀|相關新聞|相關內容|延伸阅读|延伸閱讀|推荐阅读|推薦閱讀"
    r"|更多阅读|其它繁體|其它)?[\s:：/|｜]*$")
# A list of links may also give each one a number or a date ("文章一 2024年7月1日"); a paragraph
# may not: "6月23日，<a>…的声明：</a>" introduces a quotation.
_LIST_LINK_REST = re.compile(r"^[\s:：/|｜\d年月日.,，、-]*$")
# DW sign-offs; what follows them is DW's related gallery, not the article.
_SIGN_OFF = re.compile(r"^DW中文有|德国之声版权声明")
# Controls and zero-width characters that only confuse tokenisers.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b\ufeff]")
# \s covers ASCII whitespace, U+3000, nbsp and the other Unicode spaces.
_SPACES = re.compile(r"\s+")
_SPACES_IN_LINE = re.compile(r"[^\S\n]+")


@dataclass
class Extracted:
    lead: str = ""
    body: str = ""
    warnings: list[str] = field(default_factory=list)


def normalize_space(text: str) -> str:
    """One line of clean text: invisible characters dropped, whitespace runs → one space, ends stripped."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def _clean_lines(text: str) -> list[str]:
    lines = []
    in_card = False
    text = _SPACES_IN_LINE.sub(" ", _INVISIBLE.sub("", text))
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        # a card whose markup was lost: its title line, then its field lines
        in_card = bool(_CARD_TITLE.match(line)) or (in_card and bool(_CARD_FIELD.match(line)))
        if in_card or _FURNITURE_LINE.match(line) or _EDITOR_CREDIT.match(line):
            continue
        if _SIGN_OFF.search(line):
            break
        lines.append(line)
    while lines and _CLOSING_CREDIT.match(lines[-1]):
        lines.pop()
    return lines


def _too_complex(html: str) -> bool:
    """Estimate lexbor's work (sum of nesting depth over tags) without parsing."""
    if html.count("<") <= _CHEAP_TAG_COUNT:
        return False
    depth = cost = last = 0
    open_count: dict[str, int] = {}
    for m in _CONTAINER_TAG.finditer(html):
        # every tag (and text run) costs about the current depth
        cost += depth * (1 + html.count("<", last, m.start()))
        last = m.end()
        name = m.group(2).lower()
        if m.group(1):
            # only a close tag matching an open one pops, as in the real tree builder
            if open_count.get(name):
                open_count[name] -= 1
                depth -= 1
        elif not m.group(3):
            open_count[name] = open_count.get(name, 0) + 1
            depth += 1
            if depth > MAX_DEPTH:
                return True
    cost += depth * html.count("<", last)
    return cost > MAX_DEPTH_COST


def _strip_tags(html: str) -> str:
    """Fallback for degenerate HTML: block tags become line breaks, other tags vanish."""
    return unescape(re.sub(r"<[^<>]*>", "", _BLOCK.sub("\n<", html)))


def _is_link_only(node) -> bool:
    """True when all text of `node` is link text, give or take a "相关报道"-style label.

    Such paragraphs and lists point to other articles (RFA's and VOA's related lists, RFI's
    "相关报道"/"其它 /", DW's "延伸阅读", BBC's story lists, Reuters' chart links).
    """
    links = node.css("a")
    if not links:
        return False
    rest = node.text()
    for a in links:
        rest = rest.replace(a.text(), "", 1)
    return bool(_LINK_LABEL.match(rest) or node.tag in ("ul", "ol") and _LIST_LINK_REST.match(rest))


def _cut_skipped_promotions(html: str) -> str:
    """Cut from each "Skip … and continue reading" link to the element it skips to."""
    while m := _SKIP_LINK.search(html):
        target = re.compile(r"<(\w+)[^<>]*\sid=[\"']?%s[\"'\s>][^<>]*>?(?:[^<]{0,80}</\1>)?" % re.escape(m.group(1)))
        end = target.search(html, m.end())
        html = html[: m.start()] + html[end.end() if end else m.end() :]
    return html


def _remove_layout_furniture(body) -> None:
    """Furniture of the newer layouts that only the DOM shows: <time> lines, byline lists, CDT's card."""
    for node in body.css("time"):
        text = normalize_space(node.text())
        parent = node.parent
        alone = parent is None or normalize_space(parent.text()) == text
        if alone and (not text or "datetime" in node.attributes or _TIME_ONLY.match(text)):
            node.decompose()
    for node in body.css("ul, ol"):
        items = [normalize_space(li.text()) for li in node.css("li")]
        if items and all(len(t) <= 60 for t in items) and any(_BYLINE_ITEM.match(t) for t in items):
            node.decompose()
    for node in body.css(".su-spoiler-title, [role=button]"):
        if _CARD_TITLE.match(normalize_space(node.text())):
            content = node.next
            while content is not None and content.tag == "-text" and not content.text_content.strip():
                content = content.next
            if content is not None and "su-spoiler-content" in (content.attributes.get("class") or ""):
                content.decompose()
            node.decompose()


def _remove_dw_gallery(body) -> None:
    """DW's "相关图集" block: an <h3> followed by sibling <div><img>caption</div> items."""
    for h3 in body.css("h3"):
        if not h3.text().strip().startswith("相关图集"):
            continue
        node = h3.next
        h3.decompose()
        while node is not None:
            following = node.next
            if node.tag == "-text" and not node.text_content.strip():
                pass
            elif node.tag == "div" and node.css_first("img") is not None:
                node.decompose()
            else:
                break
            node = following


def _rfi_lead(body) -> str:
    """RFI's lead: a top-level <p> made only of <strong>, before any other text."""
    for node in body.iter(include_text=True):
        tag = node.tag
        if tag == "-text":
            if node.text_content.strip():
                return ""
            continue
        if tag in ("img", "figure", "br", "hr", "-comment"):
            continue
        text = normalize_space(node.text())
        if not text:
            continue
        if tag != "p":
            return ""
        for child in node.iter(include_text=True):
            if child.tag == "-text" and child.text_content.strip():
                return ""
            if child.tag not in ("-text", "-comment", "strong", "br"):
                return ""
        node.decompose()
        return text
    return ""


def extract(html: str, source: str) -> Extracted:
    """Lead and body text of one article's HTML; `source` is the outlet code (e.g. "RFI")."""
    out = Extracted()
    # The HTML is one line; stray CR/LF/tabs inside it are plain whitespace, and "\n" from
    # here on only marks block boundaries.
    html = html.replace("\r", " ").replace("\n", " ")
    meta = _META_DIV.match(html)
    if meta:
        html = html[meta.end() :]
    for footer in _FOOTERS:
        m = footer.search(html)
        if m:
            html = html[: m.start()]
    html = _cut_skipped_promotions(_SQUASHED.sub(r"<\1 ", html))
    if _too_complex(html):
        out.warnings.append("HTML nested too deeply to parse: tags stripped instead")
        out.body = "\n".join(_clean_lines(_strip_tags(html)))
        return out

    body = LexborHTMLParser(_BLOCK.sub("\n<", html)).body
    if body is None:
        return out
    for node in body.css(_FURNITURE):
        node.decompose()
    _remove_layout_furniture(body)
    for node in body.css("ul:has(a), ol:has(a), p:has(a)"):
        if _is_link_only(node):
            node.decompose()
    if source == "DW":
        _remove_dw_gallery(body)

    lead_lines: list[str] = []
    if source == "FT":
        node = body.css_first(".story-lead")
        if node is not None:
            lead_lines = _clean_lines(node.text())
            node.decompose()
    elif source == "RFI":
        lead = _rfi_lead(body)
        if lead:
            lead_lines = [lead]
    out.lead = "\n".join(lead_lines)

    lines = _clean_lines(body.text())
    # Feeds sometimes repeat the lead as the first body paragraph; FT's lead carries
    # an "Author：" prefix before the repeated text.
    if lead_lines and lines[: len(lead_lines)] == lead_lines:
        lines = lines[len(lead_lines) :]
    elif len(lead_lines) == 1 and lines:
        repeated = lead_lines[0].split("：", 1)[-1]
        if len(repeated) >= 10 and lines[0].startswith(repeated):
            lines[0] = lines[0][len(repeated):].strip()
            lines = [line for line in lines if line]
    out.body = "\n".join(lines)
    return out
