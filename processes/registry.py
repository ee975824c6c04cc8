"""The published OGC API processes: id -> processor class (pygeoapi plugin, by dotted path).

One line per process; `artois-geo serve` publishes each as /processes/{id}.
"""
PROCESSES: dict[str, str] = {
    "mutability": "processes.mutability.processor.MutabilityProcessor",
    "solar-potential": "processes.solar_potential.processor.SolarPotentialProcessor",
    "risk-matrix": "processes.risk_matrix.processor.RiskMatrixProcessor",
    "zonal-statistics": "processes.zonal_statistics.processor.ZonalStatisticsProcessor",
    "chiffres-cles-calcul": "processes.chiffres_cles.processor.ChiffresClesProcessor",
    "cadastre-solaire-calcul": "processes.cadastre_solaire.processor.CadastreSolaireProcessor",
    "zae-densification": "processes.zae_densification.processor.ZaeDensificationProcessor",
    "half-hour-territory": "processes.half_hour.processor.HalfHourProcessor",
}
