// Read feed documents with two npm feed parsers and print what each saw, as JSON.
// Usage: node read_feeds.mjs FILE...  (the format is taken from the file name's suffix)
import { readFileSync } from "node:fs";
import { extractFromJson, extractFromXml } from "@extractus/feed-extractor";
import Parser from "rss-parser";

const rssParser = new Parser({
  customFields: { item: [["media:content", "mediaContent"], ["media:thumbnail", "mediaThumbnail"]] },
});

function extractorOptions() {
  return {
    normalization: true,
    getExtraFeedFields: (feed) => ({ raw: feed }),
    getExtraEntryFields: (entry) => ({ raw: entry }),
  };
}

function imageOf(raw) {
  // Where readers look for an entry's image, in the raw element the extractor kept.
  if (!raw) return null;
  if (raw.enclosure) return raw.enclosure["@_url"] ?? raw.enclosure.url ?? null;
  const links = [].concat(raw.link ?? []);
  const enclosure = links.find((link) => link && link["@_rel"] === "enclosure");
  if (enclosure) return enclosure["@_href"];
  if (raw["media:content"]) return raw["media:content"]["@_url"];
  if (raw.image) return raw.image;
  return null;
}

function textOf(value) {
  return value !== null && typeof value === "object" ? value["#text"] : value;
}

const results = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const extracted = file.endsWith(".json")
    ? extractFromJson(JSON.parse(text), extractorOptions())
    : extractFromXml(text, extractorOptions());
  const result = {
    file,
    extractor: {
      title: extracted.title,
      link: extracted.link,
      entries: extracted.entries.map((e) => ({
        title: e.title,
        link: e.link,
        image: imageOf(e.raw),
        description: e.description,
        // The title as fast-xml-parser (which the extractor parses with) left it in the entry.
        rawTitle: e.raw ? textOf(e.raw.title) : null,
      })),
    },
  };
  if (!file.endsWith(".json")) {
    const parsed = await rssParser.parseString(text);
    result.rssParser = {
      title: parsed.title,
      link: parsed.link,
      image: parsed.image ? parsed.image.url : null,
      entries: parsed.items.map((item) => ({
        title: item.title,
        link: item.link,
        enclosure: item.enclosure ? item.enclosure.url : null,
        media: item.mediaContent ? item.mediaContent.$.url : null,
      })),
    };
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
