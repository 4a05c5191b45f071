<?xml version="1.0" encoding="UTF-8"?>
<!-- Renders feedsvc's Atom and RSS feeds as a readable page when opened in a browser. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="atom:feed/atom:title | rss/channel/title"/>
    <xsl:variable name="self" select="atom:feed/atom:link[@rel='self']/@href | rss/channel/atom:link[@rel='self']/@href"/>
    <xsl:variable name="home" select="atom:feed/atom:link[@rel='alternate']/@href | rss/channel/link"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          :root { color-scheme: light dark; }
          body { margin: 0 auto; max-width: 42rem; padding: 0 1rem; font: 1.125rem/1.6 Georgia, serif; }
          .note { font: .95rem/1.5 system-ui, sans-serif; padding: .75rem 1rem; border: 1px solid #888; border-radius: .5rem; }
          code { word-break: break-all; }
          .byline { font: .9rem system-ui, sans-serif; opacity: .75; }
        </style>
      </head>
      <body>
        <header>
          <p class="note"><strong>This is a web feed.</strong> To subscribe, copy this page's
            address into your feed reader: <code><xsl:value-of select="$self"/></code>.
            New articles then come to you without visiting the site.</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><a href="{$home}">Visit the website →</a></p>
        </header>
        <main>
          <xsl:apply-templates select="atom:feed/atom:entry | rss/channel/item"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article>
      <h2><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="byline"><xsl:value-of select="atom:category/@term"/> · <xsl:value-of select="substring(atom:published, 1, 10)"/></p>
      <p><xsl:value-of select="atom:summary"/></p>
    </article>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="byline"><xsl:value-of select="category"/> · <xsl:value-of select="substring(pubDate, 1, 16)"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
