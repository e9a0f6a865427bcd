"""The Shopify sync: an asset that lands changed customers, orders and products, on a schedule."""
