"""Analytics: KPI values, heat map, ratings."""
