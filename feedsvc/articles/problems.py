"""What can be wrong with an article file: the stable codes, a hint for each, and Rejected.

The codes are raised as ArticleError by the parser (articles.py: the text; frontmatter.py:
`front-matter`), by the folder I/O (folder.py: the file itself) and by the image checks
(images.py: the `image-*` codes; the article is still published, with its preview card);
README's "Input policy" and "Images" list them for users.
"""

from __future__ import annotations

from dataclasses import dataclass

HINTS = {
    "empty": "Write the section on line 1, the title after a blank line, then paragraphs.",
    "no-section": "Put the article (section, title, paragraphs) after the front matter.",
    "no-title": "Add a blank line and the title after the section line.",
    "no-body": "Add at least one paragraph after the title.",
    "binary": "Only UTF-8 text files are articles: move this file out of the seeds folder.",
    "not-utf8": "Save the file as UTF-8 (most editors have 'Save with encoding').",
    "control-character": "Remove the invisible control character (often pasted from elsewhere).",
    "title-too-long": "Shorten the title; put the rest in the first paragraph.",
    "section-too-long": "Use a short section name such as 'World News'.",
    "too-large": "Split the article, or raise FEEDSVC_MAX_FILE_KB.",
    "front-matter": "Fix the block between the '---' lines "
    "(date, updated, author, tags, summary, image, image_alt).",
    "unreadable": "Check the file's permissions: feedsvc must be able to read it.",
    "vanished": "It was deleted or renamed while being read; the next scan picks it up.",
    "not-a-file": "Only regular files ending in .txt are articles.",
    "symlink-outside": "Copy the file into the seeds folder instead of linking to it.",
    "unresolvable": "Replace the link with the file it should lead to: it loops.",
    "too-slow": "Reading it took longer than FEEDSVC_FILE_SECONDS: shorten the front matter "
    "or the file (or check the disk it is on). It is set aside, not read again until it changes.",
    "crashed": "Reading it stopped the process that read it: check its size and front matter. "
    "It is set aside, not read again until it changes.",
    "seeds-unreadable": "Check FEEDSVC_SEEDS_DIR: the folder must exist and be readable.",
    "invisible-character": "Remove the invisible or direction-changing character from the "
    "title or section (often pasted from elsewhere); it would make the title read differently.",
    # An article's image (images.py): the article is published with its preview card instead.
    "image-missing": "Check the front matter's 'image:': it names a file, relative to the "
    "articles folder, that is not there.",
    "image-outside": "Copy the image into the articles folder instead of linking to it or "
    "naming a path outside it.",
    "image-type": "Give a .jpg, .png or .webp file.",
    "image-disguised": "Save the image in the format its name says (or rename it): its bytes "
    "are another format than its extension.",
    "image-broken": "Export the image again: Pillow cannot decode it (truncated or damaged).",
    "image-too-large": "Scale the image down (at most 40 megapixels and 20 MiB); 1200 to 2400 "
    "pixels wide is plenty for feeds and link previews.",
    "image-unreadable": "Check the image file's permissions: feedsvc must be able to read it.",
    "image-unkept": "Check the images folder beside the catalog (free space, permissions); "
    "the next scan tries again.",
}


@dataclass(frozen=True, slots=True)
class Rejected:
    """A file that was not published, and why."""

    path: str
    code: str
    reason: str

    @property
    def hint(self) -> str:
        """Return what to do about it."""
        return HINTS.get(self.code, "")
