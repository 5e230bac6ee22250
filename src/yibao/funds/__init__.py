"""Fund safety over the collection ledger (Bishan 九（五）): cash limits (双限报解), the daily
close (日结), receipt books (现金收缴凭证), the tax system's payment list, the public notice."""
