"""Writes generated-manuscript.docx: a small Word manuscript with everything the import
handles (title, subtitle, front and back matter, footnotes and an endnote, a table, nested
and numbered lists, emphasis, links, a quotation, a picture with alternative text and a
caption) and what it cannot carry (a tracked insertion and deletion, a comment, a text box,
a field, an equation), as WordprocessingML written by hand with the standard library.

The real documents beside it were made by Word; this one exists because none of them has
all of these at once. The tests also use :func:`package` to make hostile documents.
Run ``python tests/real/docx/make_manuscript.py`` to write it again (the bytes are the same).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NAMESPACES = (f'xmlns:w="{W}" xmlns:r="{R}" '
              'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
              'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
              'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
              'xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" '
              'xmlns:v="urn:schemas-microsoft-com:vml"')
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STYLES = [("Normal", "Normal"), ("Title", "Title"), ("Subtitle", "Subtitle"), ("Heading1", "heading 1"),
          ("Heading2", "heading 2"), ("Quote", "Quote"), ("Caption", "Caption"), ("ListParagraph", "List Paragraph")]
STAMP = (2024, 1, 1, 0, 0, 0)


def png(width: int = 48, height: int = 32) -> bytes:
    """A small striped PNG, made without Pillow so that its bytes never change."""
    rows = b"".join(b"\x00" + b"".join(bytes((40 + 4 * x, 90, 160 - 3 * y)) for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def run(text: str, *, bold: bool = False, italic: bool = False, lang: str | None = None) -> str:
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "") + (f'<w:lang w:val="{lang}"/>' if lang else "")
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def para(*runs: str, style: str | None = None, num: tuple[int, int] | None = None) -> str:
    props = (f'<w:pStyle w:val="{style}"/>' if style else "") + \
        (f'<w:numPr><w:ilvl w:val="{num[1]}"/><w:numId w:val="{num[0]}"/></w:numPr>' if num else "")
    return f'<w:p>{f"<w:pPr>{props}</w:pPr>" if props else ""}{"".join(runs)}</w:p>'


def picture(rel_id: str, alt: str, attribute: str = "r:embed") -> str:
    return ('<w:r><w:drawing><wp:inline><wp:extent cx="1828800" cy="1219200"/>'
            f'<wp:docPr id="1" name="Picture 1" descr={quoteattr(alt)}/>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
            '<pic:nvPicPr><pic:cNvPr id="0" name="picture.png"/><pic:cNvPicPr/></pic:nvPicPr>'
            f'<pic:blipFill><a:blip {attribute}="{rel_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
            '<pic:spPr/></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>')


def _styles() -> str:
    styles = "".join(f'<w:style w:type="paragraph" w:styleId="{sid}"><w:name w:val="{name}"/></w:style>'
                     for sid, name in STYLES)
    return (f'<w:styles {NAMESPACES}><w:docDefaults><w:rPrDefault><w:rPr><w:lang w:val="en-GB"/></w:rPr>'
            f'</w:rPrDefault></w:docDefaults>{styles}</w:styles>')


def _numbering() -> str:
    def level(ilvl: int, fmt: str) -> str:
        return f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="%1."/></w:lvl>'

    return (f'<w:numbering {NAMESPACES}>'
            f'<w:abstractNum w:abstractNumId="0">{level(0, "bullet")}{level(1, "bullet")}</w:abstractNum>'
            f'<w:abstractNum w:abstractNumId="1">{level(0, "decimal")}{level(1, "lowerLetter")}</w:abstractNum>'
            '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
            '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>')


def _notes(kind: str, notes: list[str]) -> str:
    body = "".join(f'<w:{kind} w:id="{n}">{para(run(" " + text))}</w:{kind}>' for n, text in enumerate(notes, 1))
    return (f'<w:{kind}s {NAMESPACES}><w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            f'</w:{kind}><w:{kind} w:type="continuationSeparator" w:id="0"><w:p/></w:{kind}>{body}</w:{kind}s>')


def package(body: str, *, core: dict[str, str] | None = None, footnotes: list[str] = (),
            endnotes: list[str] = (), comments: list[tuple[str, str]] = (),
            media: dict[str, bytes] | None = None, relationships: list[str] = (),
            extra: dict[str, bytes] | None = None) -> bytes:
    """A .docx holding ``body`` (the children of ``w:body``) and the parts it needs, written
    with fixed dates so that the same arguments give the same bytes."""
    media = media or {}
    rels = [f'<Relationship Id="rIdStyles" Type="{REL}/styles" Target="styles.xml"/>',
            f'<Relationship Id="rIdNumbering" Type="{REL}/numbering" Target="numbering.xml"/>', *relationships]
    parts = {"word/styles.xml": _styles(), "word/numbering.xml": _numbering()}
    for kind, notes in (("footnote", footnotes), ("endnote", endnotes)):
        if notes:
            parts[f"word/{kind}s.xml"] = _notes(kind, list(notes))
            rels.append(f'<Relationship Id="rId{kind}s" Type="{REL}/{kind}s" Target="{kind}s.xml"/>')
    if comments:
        parts["word/comments.xml"] = f'<w:comments {NAMESPACES}>' + "".join(
            f'<w:comment w:id="{n}" w:author={quoteattr(author)}>{para(run(text))}</w:comment>'
            for n, (author, text) in enumerate(comments)) + "</w:comments>"
        rels.append(f'<Relationship Id="rIdComments" Type="{REL}/comments" Target="comments.xml"/>')
    for n, name in enumerate(sorted(media), 1):
        rels.append(f'<Relationship Id="rIdImg{n}" Type="{REL}/image" Target="media/{name}"/>')
    parts["word/document.xml"] = f'<w:document {NAMESPACES}><w:body>{body}</w:body></w:document>'
    parts["word/_rels/document.xml.rels"] = \
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{"".join(rels)}</Relationships>'
    parts["docProps/core.xml"] = _core(core or {})
    files = {name: text.encode() for name, text in parts.items()}
    files |= {f"word/media/{name}": data for name, data in media.items()} | (extra or {})
    return _zip(files)


def _core(values: dict[str, str]) -> str:
    tags = {"title": "dc:title", "creator": "dc:creator", "language": "dc:language", "subject": "dc:subject",
            "description": "dc:description", "keywords": "cp:keywords"}
    fields = "".join(f"<{tags[k]}>{escape(v)}</{tags[k]}>" for k, v in values.items() if k in tags)
    if "modified" in values:
        fields += f'<dcterms:modified xsi:type="dcterms:W3CDTF">{values["modified"]}</dcterms:modified>'
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{fields}</cp:coreProperties>')


def _zip(files: dict[str, bytes]) -> bytes:
    import io

    content_types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Default Extension="png" ContentType="image/png"/><Default Extension="emf" ContentType="image/x-emf"/>'
                     '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                     'wordprocessingml.document.main+xml"/></Types>')
    root_rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/></Relationships>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in {"[Content_Types].xml": content_types.encode(), "_rels/.rels": root_rels.encode(),
                           **files}.items():
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def manuscript() -> bytes:
    """The generated manuscript: 'The Lighthouse Keeper', a short book in British English."""
    h1 = lambda text: para(run(text), style="Heading1")
    body = "".join([
        para(run("The Lighthouse Keeper"), style="Title"),
        para(run("A Short Novel of the Sea"), style="Subtitle"),
        h1("Dedication"),
        para(run("For everyone who kept a light burning.")),
        h1("Preface"),
        para(run("This book began as a letter"), '<w:r><w:footnoteReference w:id="1"/></w:r>', run(".")),
        h1("The Storm"),
        para(run("The storm came in at dusk, "), run("without warning", italic=True), run(", and the keeper wrote "),
             run("everything", bold=True), run(" down."), '<w:r><w:footnoteReference w:id="2"/></w:r>'),
        para(run("Read the "), f'<w:hyperlink r:id="rIdLink">{run("harbour log")}</w:hyperlink>',
             run(" or see "), f'<w:hyperlink w:anchor="tides">{run("the tide table")}</w:hyperlink>', run(".")),
        para(run("What he packed:")),
        para(run("Lamp oil"), style="ListParagraph", num=(1, 0)),
        para(run("Two wicks"), style="ListParagraph", num=(1, 1)),
        para(run("A spare glass"), style="ListParagraph", num=(1, 1)),
        para(run("Bread"), style="ListParagraph", num=(1, 0)),
        para(run("The light must not go out."), style="Quote"),
        para(run("The keeper's steps, in order:")),
        para(run("Climb the stairs"), style="ListParagraph", num=(2, 0)),
        para(run("Trim the wick"), style="ListParagraph", num=(2, 0)),
        para(run("Light the lamp"), style="ListParagraph", num=(2, 0)),
        para(picture("rIdImg1", "A lighthouse on a rock, its beam crossing a dark sea")),
        para(run("The lighthouse at night"), style="Caption"),
        para(run("He wrote: "), '<w:ins w:id="10" w:author="Ann Editor"><w:r><w:t>very </w:t></w:r></w:ins>',
             '<w:del w:id="11" w:author="Ann Editor"><w:r><w:delText>quite </w:delText></w:r></w:del>',
             run("late, and tired."), '<w:r><w:commentReference w:id="0"/></w:r>'),
        para(run("Page "), '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r>', run("7"), '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
             run(" of the log.")),
        para(run("Beside the map: "), '<w:r><w:pict><v:shape><v:textbox><w:txbxContent>'
             f'{para(run("Keep the oil dry"))}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'),
        para(run("The light's reach: "), "<m:oMath><m:r><m:t>d = 1.17 √h</m:t></m:r></m:oMath>"),
        para(run("Costs were $5 a week, *not* more; see {{#include notes}} and <b>nothing</b> else.")),
        h1("The Calm"),
        para(run("Morning came"), '<w:r><w:endnoteReference w:id="1"/></w:r>', run(".")),
        para(run("Tides", bold=True)),
        _table(),
        h1("Appendix A: Tide Table"),
        para('<w:bookmarkStart w:id="5" w:name="tides"/>', run("High water is at six."),
             '<w:bookmarkEnd w:id="5"/>'),
        h1("Acknowledgements"),
        para(run("Thanks to the harbour master.")),
    ])
    return package(
        body,
        core={"title": "Keeper (working title)", "creator": "Mary Shore; John Tide", "language": "en-GB",
              "description": "A keeper, a storm and a lamp.", "keywords": "sea, lighthouses",
              "modified": "2023-05-17T10:00:00Z"},
        footnotes=["Written to my sister in 1998.", "The log survives in the harbour museum."],
        endnotes=["At six, as the tide table says."],
        comments=[("Ann Editor", "Is he tired or sleepy?")],
        media={"image1.png": png()},
        relationships=[(f'<Relationship Id="rIdLink" Type="{REL}/hyperlink" Target="https://example.org/harbour-log" '
                       'TargetMode="External"/>')],
    )


def _table() -> str:
    def cell(text: str) -> str:
        return f"<w:tc>{para(run(text))}</w:tc>"

    header = '<w:tr><w:trPr><w:tblHeader/></w:trPr>' + cell("Day") + cell("High water") + "</w:tr>"
    rows = "".join(f"<w:tr>{cell(day)}{cell(time)}</w:tr>" for day, time in (("Monday", "06:10"), ("Tuesday", "06:55")))
    return f"<w:tbl><w:tblPr/>{header}{rows}</w:tbl>"


if __name__ == "__main__":
    target = Path(__file__).with_name("generated-manuscript.docx")
    target.write_bytes(manuscript())
    print(f"wrote {target} ({target.stat().st_size} bytes)")
